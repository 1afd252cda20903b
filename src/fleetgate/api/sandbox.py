"""The sandbox network over HTTP: virtual phones scan QRs, type pairing codes, log out.

Authenticated with a partner token as ``Authorization: Bearer <partnerToken>``. The network is
shared: a phone number belongs to the first partner that uses it, and only that partner acts as
the phone (another partner's number answers 404, as an unknown instance does). A partner's phones
link only to that partner's instances. Errors are ``{"error": "<text>"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import RedirectResponse, Response

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL, json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sandbox_phone import own_phone
from fleetgate.api.sandbox_phone import phone_number as _phone
from fleetgate.api.uploads import is_form, store_form
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.partners import Partner
from fleetgate.engines.sandbox.network import PRESENCES
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import digits_value, is_digits, parse_instance_id
from fleetgate.services import sandbox_groups, sandbox_phones
from fleetgate.services.files import file_message_data
from fleetgate.services.sandbox_phones import NO_SUCH_INSTANCE

router = APIRouter(prefix="/sandbox", tags=["sandbox"], route_class=PlainRoute)


class ScanBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    qr: str = Field(pattern=NO_CONTROL)


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    code: str = Field(pattern=NO_CONTROL)


@router.post("/phones/{phone}/scan", openapi_extra=json_body(ScanBody))
async def scan(phone: str, request: Request, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The phone scans a QR payload shown by one of the partner's instances and links to it."""
    body = parse_body(ScanBody, await read_json(request, ctx.settings.http.max_body_bytes))
    return await _link(
        ctx, sandbox_phones.link_by_qr, partner=partner, phone=_phone(phone), payload=body.qr
    )


@router.post("/phones/{phone}/link", openapi_extra=json_body(CodeBody))
async def link(phone: str, request: Request, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The phone types a pairing code that an instance issued for this phone number."""
    body = parse_body(CodeBody, await read_json(request, ctx.settings.http.max_body_bytes))
    return await _link(
        ctx, sandbox_phones.link_by_code, partner=partner, phone=_phone(phone), code=body.code
    )


async def _link(ctx: Context, attempt: Callable[..., Awaitable[int]], **given: Any) -> Response:
    """Run a link attempt of the sandbox service in a transaction; the instance it linked."""
    async with ctx.db.transaction() as session:
        linked = await attempt(session=session, signals=ctx.signals, **given)
    return OrjsonResponse({"linked": True, "idInstance": linked})


@router.post("/phones/{phone}/logout")
async def phone_logout(phone: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The phone unlinks every instance of the partner it is linked to."""
    async with ctx.db.transaction() as session:
        ids = await sandbox_phones.log_out(
            session=session, signals=ctx.signals, partner=partner, phone=_phone(phone)
        )
    return OrjsonResponse({"unlinked": ids})


@router.get("/instances/{idInstance}/qr")
async def instance_qr(idInstance: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The text the instance's current QR encodes (what a phone would read from the image)."""
    id_instance = parse_instance_id(idInstance)
    if id_instance is None:
        raise NotFound(NO_SUCH_INSTANCE)
    answer = await sandbox_phones.instance_qr(
        db=ctx.db, signals=ctx.signals, partner=partner, id_instance=id_instance
    )
    return OrjsonResponse({"qr": answer["payload"], "expiresMs": answer["expiresMs"]})


class PhoneMessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str
    message: str = Field(min_length=1, max_length=MESSAGE_MAX)


class PhoneFileFields(BaseModel):
    """The text fields of a phone's file form (its file part is read apart)."""

    model_config = ConfigDict(extra="forbid")
    chatId: str
    caption: str | None = Field(None, max_length=MESSAGE_MAX)


class PhoneReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str


class PhonePresenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str
    status: str


def _chat_phone(chat_id: str) -> str:
    phone = chat_id.removesuffix("@c.us")
    if phone == chat_id:
        raise InvalidInput("chatId must be <phone digits>@c.us")
    return _phone(phone)


def _phone_message_bodies() -> dict[str, Any]:
    """The two bodies the phone's messages route takes, for the OpenAPI schema (the route
    reads its body itself, so FastAPI cannot see them)."""
    form = PhoneFileFields.model_json_schema()
    form["properties"]["file"] = {"type": "string", "format": "binary"}
    form["required"] = [*form.get("required", []), "file"]
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": PhoneMessageBody.model_json_schema()},
                "multipart/form-data": {"schema": form},
            }
        }
    }


@router.post("/phones/{phone}/messages", openapi_extra=_phone_message_bodies())
async def phone_sends(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone writes a text message to a number (an instance's, or another phone):
    a JSON ``{chatId, message}``; or sends a file: a multipart form with ``chatId``, ``file``
    and optional ``caption``."""
    if is_form(request):
        return await _phone_sends_file(_phone(phone), request, partner, ctx)
    body = parse_body(PhoneMessageBody, await read_json(request, ctx.settings.http.max_body_bytes))
    if body.chatId.endswith("@g.us"):  # a group the phone is a member of
        async with ctx.db.transaction() as session:
            id_message = await sandbox_groups.send_text(
                session=session,
                signals=ctx.signals,
                partner=partner,
                phone=_phone(phone),
                group_id=body.chatId,
                text=body.message,
            )
        return OrjsonResponse({"idMessage": id_message})
    sender, to_phone = _phone(phone), _chat_phone(body.chatId)
    async with ctx.db.transaction() as session:
        id_message = await sandbox_phones.send_text(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=sender,
            to_phone=to_phone,
            text=body.message,
        )
    return OrjsonResponse({"idMessage": id_message})


async def _phone_sends_file(
    sender: str, request: Request, partner: Partner, ctx: Context
) -> Response:
    form = await store_form(request, ctx.media, id_instance=None)
    try:
        fields = parse_body(PhoneFileFields, form.fields)
        to_phone = _chat_phone(fields.chatId)
        if form.file is None:
            raise InvalidInput("field file is required: the form has no file part")
        file = form.file
        link = ctx.media.link(None, file.key, file.file_name)
        data = file_message_data(file, link=link, caption=fields.caption or "")
        async with ctx.db.transaction() as session:
            id_message = await sandbox_phones.send_message(
                session=session,
                signals=ctx.signals,
                partner=partner,
                phone=sender,
                to_phone=to_phone,
                message_data=data,
                file=file,
            )
    except BaseException:
        if form.file is not None:
            await ctx.media.forget(form.file)
        raise
    return OrjsonResponse({"idMessage": id_message, "urlFile": link})


def message_limit(limit: str) -> int:
    """A phone's list's ``limit`` query parameter: 1 to 1,000 messages."""
    if not is_digits(limit) or not 1 <= digits_value(limit) <= 1000:
        raise InvalidInput("limit must be an integer from 1 to 1000")
    return digits_value(limit)


@router.get("/phones/{phone}/messages")
async def phone_inbox(
    phone: str, partner: PartnerDep, ctx: ContextDep, limit: str = "100"
) -> Response:
    """What the virtual phone received, oldest first (the newest ``limit``, at most 1,000)."""
    count = message_limit(limit)
    phone = await own_phone(ctx, partner, phone)
    async with ctx.db.reading() as session:
        events = await sandbox_phones.inbox(session=session, phone=phone, limit=count)
    items = [
        message_item(e.id_message, e.from_phone, e.payload, e.at_ms, chat=e.from_phone)
        for e in events
    ]
    return OrjsonResponse({"messages": fold_changes(items)})


def message_item(
    id_message: str, from_phone: str, payload_json: str, at_ms: int, *, chat: str
) -> dict[str, Any]:
    """One message as the phone routes list it; ``chat`` is the other phone of its chat."""
    payload = orjson.loads(payload_json)
    data = payload["messageData"]
    return {
        "idMessage": id_message,
        # A group message shows in the group's chat, its author as sender.
        "chatId": payload.get("groupId", f"{chat}@c.us"),
        "sender": f"{from_phone}@c.us",
        "timestamp": at_ms // 1000,
        "timestampMs": at_ms,
        "typeMessage": data.get("typeMessage", ""),
        "text": message_text(data),
        "messageData": data,
    }


def fold_changes(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Show each edit, deletion, reaction and vote on the message it changes too
    (``isEdited`` with the new text, ``isDeleted``, ``reactions`` by sender, a poll's
    ``votes``), as a phone's chat shows them; the oldest change comes first, the newest wins."""
    by_id = {item["idMessage"]: item for item in items}
    for item in items:
        data = item["messageData"]
        change = (
            data.get("editedMessageData")
            or data.get("deletedMessageData")
            or data.get("quotedMessage" if item["typeMessage"] == "reactionMessage" else "")
            or data.get("pollMessageData" if item["typeMessage"] == "pollUpdateMessage" else "")
        )
        target = by_id.get(change.get("stanzaId")) if isinstance(change, dict) else None
        if target is None:
            continue
        if "editedMessageData" in data:
            target |= {"isEdited": True, "text": str(change.get("textMessage", ""))}
        elif "deletedMessageData" in data:
            target["isDeleted"] = True
        elif item["typeMessage"] == "reactionMessage":
            reactions = target.setdefault("reactions", {})
            emoji = message_text(data)
            if emoji:
                reactions[item["sender"]] = emoji
            else:  # an empty reaction takes the sender's reaction back
                reactions.pop(item["sender"], None)
        else:
            target["votes"] = change.get("votes", [])
    return items


@router.post("/phones/{phone}/read", openapi_extra=json_body(PhoneReadBody))
async def phone_reads(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone reads a chat: its sender gets read receipts."""
    body = parse_body(PhoneReadBody, await read_json(request, ctx.settings.http.max_body_bytes))
    reader, sender = _phone(phone), _chat_phone(body.chatId)
    async with ctx.db.transaction() as session:
        count = await sandbox_phones.read_chat(
            session=session, signals=ctx.signals, partner=partner, phone=reader, sender=sender
        )
    return OrjsonResponse({"read": count})


@router.post("/phones/{phone}/presence", openapi_extra=json_body(PhonePresenceBody))
async def phone_presence(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone shows itself online, typing, recording, ... in a chat."""
    body = parse_body(PhonePresenceBody, await read_json(request, ctx.settings.http.max_body_bytes))
    if body.status not in PRESENCES:
        raise InvalidInput(f"status must be one of {', '.join(PRESENCES)}")
    sender, to_phone = _phone(phone), _chat_phone(body.chatId)
    async with ctx.db.transaction() as session:
        await sandbox_phones.show_presence(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=sender,
            to_phone=to_phone,
            status=body.status,
        )
    return OrjsonResponse({"presence": body.status})


class PhoneStatusBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    message: str = Field(min_length=1, max_length=500)
    backgroundColor: str | None = Field(None, pattern=r"^#[0-9A-Fa-f]{6}$")


class PhoneStatusFields(BaseModel):
    """The text fields of a phone's file status form (its file part is read apart)."""

    model_config = ConfigDict(extra="forbid")
    caption: str | None = Field(None, max_length=1024)


class PhoneViewBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str
    idMessage: str = Field(min_length=1, max_length=64, pattern=NO_CONTROL)


def _phone_status_bodies() -> dict[str, Any]:
    """The two bodies the phone's statuses route takes, for the OpenAPI schema."""
    form = PhoneStatusFields.model_json_schema()
    form["properties"]["file"] = {"type": "string", "format": "binary"}
    form["required"] = [*form.get("required", []), "file"]
    return {
        "requestBody": {
            "content": {
                "application/json": {"schema": PhoneStatusBody.model_json_schema()},
                "multipart/form-data": {"schema": form},
            }
        }
    }


@router.post("/phones/{phone}/statuses", openapi_extra=_phone_status_bodies())
async def phone_posts_status(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone posts a status its contacts (the numbers it wrote with) see: a JSON
    ``{message, backgroundColor?}``, or a multipart form with ``file`` and ``caption``."""
    poster = _phone(phone)
    if is_form(request):
        form = await store_form(request, ctx.media, id_instance=None)
        try:
            fields = parse_body(PhoneStatusFields, form.fields)
            if form.file is None:
                raise InvalidInput("field file is required: the form has no file part")
            link = ctx.media.link(None, form.file.key, form.file.file_name)
            data = file_message_data(form.file, link=link, caption=fields.caption or "")
            async with ctx.db.transaction() as session:
                id_message = await sandbox_phones.post_status(
                    session=session,
                    signals=ctx.signals,
                    partner=partner,
                    phone=poster,
                    message_data=data,
                    file=form.file,
                )
        except BaseException:
            if form.file is not None:
                await ctx.media.forget(form.file)
            raise
        return OrjsonResponse({"idMessage": id_message})
    body = parse_body(PhoneStatusBody, await read_json(request, ctx.settings.http.max_body_bytes))
    text = {"text": body.message, "backgroundColor": body.backgroundColor or "#FFFFFF"}
    data = {"typeMessage": "extendedTextMessage", "extendedTextMessageData": text}
    async with ctx.db.transaction() as session:
        id_message = await sandbox_phones.post_status(
            session=session, signals=ctx.signals, partner=partner, phone=poster, message_data=data
        )
    return OrjsonResponse({"idMessage": id_message})


@router.get("/phones/{phone}/statuses")
async def phone_statuses(phone: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The statuses the virtual phone received in the last 24 hours, newest first."""
    viewer = _phone(phone)
    async with ctx.db.transaction() as session:
        found = await sandbox_phones.statuses_seen(
            session=session, partner=partner, phone=viewer, since_ms=now_ms() - 86_400_000
        )
    items = []
    for s in found:
        data = s.message_data
        media = s.media or {}
        if isinstance(data.get("fileMessageData"), dict) and isinstance(media.get("key"), str):
            owner = media.get("owner")
            name = str(data["fileMessageData"].get("fileName") or "file")
            link = ctx.media.link(owner if isinstance(owner, int) else None, media["key"], name)
            data = data | {"fileMessageData": data["fileMessageData"] | {"downloadUrl": link}}
        items.append(
            {
                "idMessage": s.id_message,
                "chatId": s.sender,
                "timestamp": s.at_ms // 1000,
                "typeMessage": data.get("typeMessage", ""),
                "text": message_text(data),
                "messageData": data,
            }
        )
    return OrjsonResponse({"statuses": items})


@router.post(
    "/phones/{phone}/statuses/read",
    openapi_extra=json_body(PhoneViewBody),
)
async def phone_views_status(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone views a status of ``chatId``: the poster's statistic shows it read."""
    body = parse_body(PhoneViewBody, await read_json(request, ctx.settings.http.max_body_bytes))
    viewer, sender = _phone(phone), _chat_phone(body.chatId)
    async with ctx.db.transaction() as session:
        seen = await sandbox_phones.view_status(
            session=session, partner=partner, phone=viewer, sender=sender, id_message=body.idMessage
        )
    if not seen:
        raise NotFound("no status like this reached this phone")
    return OrjsonResponse({"read": True})


def message_text(data: dict[str, Any]) -> str:
    """The text of a text message, the caption of a file, or ""."""
    if "textMessageData" in data:
        return str(data["textMessageData"].get("textMessage", ""))
    if "extendedTextMessageData" in data:
        return str(data["extendedTextMessageData"].get("text", ""))
    if "fileMessageData" in data:
        return str(data["fileMessageData"].get("caption", ""))
    if "groupInviteMessageData" in data:
        return str(data["groupInviteMessageData"].get("caption", ""))
    return ""


# The page that was here is a section of the partner console now (docs/console.md); a 307 keeps
# old links and bookmarks working (temporary: a browser caches no 307, so a server rolled back to
# a version that served the page here is reached again at once).
SANDBOX_PAGE = "/console/sandbox"


@router.get("", include_in_schema=False)
async def page() -> Response:
    """Where the sandbox page went: the console's sandbox section."""
    return RedirectResponse(SANDBOX_PAGE, status_code=307)
