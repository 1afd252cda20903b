"""GREEN-API account extras, contacts and retired methods (spec §13, §2.4).

- setProfilePicture: the picture goes to the engine and is kept, so getWaSettings shows it.
- addContact, editContact, deleteContact: the instance's own address book, kept by fleetgate.
- sendButtons, sendTemplateButtons, sendListMessage answer 403 and getDeviceInfo 405, as
  GREEN-API answers them since it switched them off; sendLink still sends (a text carrying
  the link, shown in the queue as sendLink).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api.bodies import NO_CONTROL, json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute, green_body
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.greenapi.sending_wire import MessageId
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send
from fleetgate.api.uploads import store_form
from fleetgate.domain.instances import State
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_PHONE
from fleetgate.services import contacts, engine_calls

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API account extras, contacts, retired methods"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

RETIRED_403 = ("sendButtons", "sendTemplateButtons", "sendListMessage")
METHODS = (
    "setProfilePicture",
    "addContact",
    "editContact",
    "deleteContact",
    "sendLink",
    "getDeviceInfo",
    *RETIRED_403,
)
_STRICT = ConfigDict(extra="forbid", strict=True)
_PERSONAL_CHAT = rf"^{CHAT_PHONE}@c\.us$"
NOT_WORKING = "the method is temporarily not working"


# What the retired methods took (they answer 403 whatever they are given).
_RETIRED_BODY = {
    "type": "object",
    "properties": {"chatId": {"type": "string"}, "message": {"type": "string"}},
    "required": ["chatId", "message"],
}


_PICTURE_FORM = {
    "type": "object",
    "properties": {"file": {"type": "string", "format": "binary"}},
    "required": ["file"],
}


@router.post(
    "/setProfilePicture/{apiTokenInstance}",
    openapi_extra={"requestBody": {"content": {"multipart/form-data": {"schema": _PICTURE_FORM}}}},
)
async def set_profile_picture(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Set the account's profile picture from a multipart form's ``file`` part (an image)."""
    form = await store_form(request, ctx.media, id_instance=instance.id_instance)
    try:
        if form.file is None or form.file.size == 0:
            raise InvalidInput("File is empty")
        file = form.file
        if not file.mime_type.startswith("image/"):
            raise InvalidInput("Unsupported media type")
        if instance.state != State.AUTHORIZED:
            raise InvalidInput("instance account not authorized")
        args = {"file": file.as_json()}
        await engine_calls.call_engine(
            db=ctx.db,
            signals=ctx.signals,
            id_instance=instance.id_instance,
            method=engine_calls.SET_PROFILE_PICTURE,
            args=args,
        )
        async with ctx.db.transaction() as session:
            await contacts.set_picture(
                session=session, id_instance=instance.id_instance, key=file.key
            )
    except BaseException:
        if form.file is not None:
            await ctx.media.forget(form.file)
        raise
    link = ctx.media.link(instance.id_instance, file.key, file.file_name)
    return OrjsonResponse({"reason": None, "urlAvatar": link, "setProfilePicture": True})


class ContactBody(BaseModel):
    """A contact of the address book."""

    model_config = _STRICT
    chatId: str = Field(pattern=_PERSONAL_CHAT)
    firstName: str = Field(min_length=1, max_length=255, pattern=NO_CONTROL)
    lastName: str | None = Field(None, max_length=255, pattern=NO_CONTROL)
    saveInAddressbook: bool | None = True


class ContactRefBody(BaseModel):
    model_config = _STRICT
    chatId: str = Field(pattern=_PERSONAL_CHAT)


def _message(status: int, text: str) -> OrjsonResponse:
    """The contacts methods' documented error body: ``{"message"}``."""
    return OrjsonResponse({"message": text}, status_code=status)


async def _on_whatsapp(ctx: ContextDep, instance: InstanceDep, chat_id: str) -> bool:
    """Whether the number has an account (asked only of a linked account; else assumed)."""
    if instance.state != State.AUTHORIZED:
        return True
    answer = await engine_calls.call_engine(
        db=ctx.db,
        signals=ctx.signals,
        id_instance=instance.id_instance,
        method=engine_calls.EXISTS,
        args={"phone": chat_id.removesuffix("@c.us")},
    )
    return bool(answer)


def _fields(body: ContactBody) -> dict[str, Any]:
    return {
        "firstName": body.firstName,
        "lastName": body.lastName or "",
        "saveInAddressbook": body.saveInAddressbook is not False,
    }


@router.post(
    "/addContact/{apiTokenInstance}",
    openapi_extra=json_body(ContactBody),
)
async def add_contact(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Add a number to the contacts: ``{"addContact": true}``; 400 if it is one already, 404
    if it has no account."""
    body = parse_body(ContactBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        known = await contacts.find(
            session=session, id_instance=instance.id_instance, chat_id=body.chatId
        )
    if known is not None:
        return _message(400, f"Contact {body.chatId} already exists")
    if not await _on_whatsapp(ctx, instance, body.chatId):
        return _message(404, f"{body.chatId} is not on WhatsApp")
    async with ctx.db.transaction() as session:
        await contacts.save(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            fields=_fields(body),
        )
    return OrjsonResponse({"addContact": True})


@router.post(
    "/editContact/{apiTokenInstance}",
    openapi_extra=json_body(ContactBody),
)
async def edit_contact(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Change a contact's names: ``{"editContact": true}``; 404 for a number not in the
    contacts."""
    body = parse_body(ContactBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.transaction() as session:
        known = await contacts.find(
            session=session, id_instance=instance.id_instance, chat_id=body.chatId
        )
        if known is None:
            return _message(404, f"Contact {body.chatId} not found")
        await contacts.save(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            fields=_fields(body),
        )
    return OrjsonResponse({"editContact": True})


@router.post(
    "/deleteContact/{apiTokenInstance}",
    openapi_extra=json_body(ContactRefBody),
)
async def delete_contact(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Remove a contact: ``{"deleteContact": true}``; 404 for a number not in the contacts."""
    body = parse_body(ContactRefBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.transaction() as session:
        removed = await contacts.delete(
            session=session, id_instance=instance.id_instance, chat_id=body.chatId
        )
    if not removed:
        return _message(404, f"Contact {body.chatId} not found")
    return OrjsonResponse({"deleteContact": True})


class SendLinkBody(BaseModel):
    """A link (retired by GREEN-API in favour of sendMessage with a preview)."""

    model_config = _STRICT
    chatId: str = Field(pattern=rf"^(?:{CHAT_PHONE}@c\.us|[0-9-]{{5,40}}@g\.us)$")
    urlLink: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\s]+$")
    quotedMessageId: MessageId | None = None


@router.post(
    "/sendLink/{apiTokenInstance}",
    openapi_extra=json_body(SendLinkBody),
)
async def send_link(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Send a link as a text with its preview; answers idMessage like sendMessage."""
    body = parse_body(SendLinkBody, await read_json(request, ctx.settings.http.max_body_bytes))
    data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": body.urlLink}}
    request_body: dict[str, Any] = {"chatId": body.chatId, "urlLink": body.urlLink}
    if body.quotedMessageId:
        request_body["quotedMessageId"] = body.quotedMessageId
    id_message = await queue_send(
        ctx,
        instance,
        body.chatId,
        data,
        body.quotedMessageId,
        request={"type": "sendLink", "body": request_body},
    )
    return OrjsonResponse({"idMessage": id_message})


def _retired(name: str) -> None:
    async def retired(instance: InstanceDep) -> OrjsonResponse:
        return OrjsonResponse(green_body(403, NOT_WORKING), status_code=403)

    retired.__doc__ = f"{name}: switched off by GREEN-API; answers 403 as it does."
    router.add_api_route(
        f"/{name}/{{apiTokenInstance}}",
        retired,
        methods=["POST"],
        name=name,
        openapi_extra=json_body(_RETIRED_BODY),
    )


for _name in RETIRED_403:
    _retired(_name)


@router.get("/getDeviceInfo/{apiTokenInstance}")
async def get_device_info(instance: InstanceDep) -> OrjsonResponse:
    """Out of service at GREEN-API: answers 405 as it does."""
    return OrjsonResponse(green_body(405, NOT_WORKING), status_code=405)
