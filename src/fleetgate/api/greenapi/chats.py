"""GREEN-API service methods on chats and sent messages: the chat list, archive flags,
disappearing timers, deletions, edits and typing.

Each reaches the instance's engine through an engine call (an engine without the method
answers that it is not supported) and is written down here: getChats shows the archive flags
and timers, the journals show edits and deletions.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fleetgate.api.bodies import parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.chats_wire import (
    ChatOnlyBody,
    DeleteMessageBody,
    DisappearingBody,
    EditMessageBody,
    SendTypingBody,
    json_body,
)
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.responses import OrjsonResponse
from fleetgate.context import Context
from fleetgate.domain.chats import deleted, edited
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import Direction
from fleetgate.errors import InvalidInput
from fleetgate.ids import digits_value, is_digits, new_message_id
from fleetgate.services import chats, engine_calls

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API service"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = (
    "getChats",
    "archiveChat",
    "unarchiveChat",
    "deleteMessage",
    "editMessage",
    "sendTyping",
    "setDisappearingChat",
)
CHATS_MAX = 1000
NOT_AUTHORIZED_TEXT = "instance account not authorized"
# The message types editMessage changes (a text, as GREEN-API allows).
EDITABLE = ("textMessage", "extendedTextMessage", "quotedMessage")


def _empty() -> Response:
    """GREEN-API answers these methods with an empty body (every official client takes it)."""
    return Response(status_code=200)


async def _call(ctx: Context, instance: InstanceView, method: str, args: dict[str, Any]) -> None:
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_AUTHORIZED_TEXT)
    await engine_calls.call_engine(
        db=ctx.db, signals=ctx.signals, id_instance=instance.id_instance, method=method, args=args
    )


async def _body(request: Request, ctx: Context) -> Any:
    return await read_json(request, ctx.settings.http.max_body_bytes)


@router.get("/getChats/{apiTokenInstance}")
async def get_chats(
    instance: InstanceDep, ctx: ContextDep, count: str | None = None
) -> OrjsonResponse:
    """The chats, most recently active first, with their archive flag and disappearing timer."""
    if count is not None and count != "" and not is_digits(count):
        raise InvalidInput("count must be a positive integer")
    limit = min(digits_value(count), CHATS_MAX) if count else CHATS_MAX
    async with ctx.db.reading() as session:
        found = await chats.list_chats(
            session=session, id_instance=instance.id_instance, limit=max(1, limit)
        )
    return OrjsonResponse(
        [
            {
                "archive": c.archived,
                "id": c.chat_id,
                "ephemeralExpiration": c.ephemeral_expiration,
                "ephemeralSettingTimestamp": c.ephemeral_ms // 1000,
                "name": c.name,
                "type": "group" if c.chat_id.endswith("@g.us") else "user",
            }
            for c in found
        ]
    )


async def _archive(
    ctx: Context, instance: InstanceView, request: Request, *, archived: bool
) -> Response:
    body = parse_body(ChatOnlyBody, await _body(request, ctx))
    async with ctx.db.reading() as session:
        await chats.check_archivable(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            archived=archived,
        )
    await _call(
        ctx, instance, engine_calls.ARCHIVE_CHAT, {"chatId": body.chatId, "archived": archived}
    )
    async with ctx.db.transaction() as session:
        await chats.set_archived(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            archived=archived,
        )
    return _empty()


@router.post("/archiveChat/{apiTokenInstance}", openapi_extra=json_body(ChatOnlyBody))
async def archive_chat(instance: InstanceDep, request: Request, ctx: ContextDep) -> Response:
    """Archive a chat (one with a message in it). Empty answer."""
    return await _archive(ctx, instance, request, archived=True)


@router.post("/unarchiveChat/{apiTokenInstance}", openapi_extra=json_body(ChatOnlyBody))
async def unarchive_chat(instance: InstanceDep, request: Request, ctx: ContextDep) -> Response:
    """Unarchive an archived chat. Empty answer."""
    return await _archive(ctx, instance, request, archived=False)


@router.post("/setDisappearingChat/{apiTokenInstance}", openapi_extra=json_body(DisappearingBody))
async def set_disappearing_chat(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Set a chat's disappearing-messages timer: 0 (off), 86400, 604800 or 7776000 s."""
    body = parse_body(DisappearingBody, await _body(request, ctx))
    expiration = body.ephemeralExpiration
    await _call(
        ctx,
        instance,
        engine_calls.SET_DISAPPEARING,
        {"chatId": body.chatId, "expiration": expiration},
    )
    async with ctx.db.transaction() as session:
        await chats.set_disappearing(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            expiration_s=expiration,
        )
    return OrjsonResponse(
        {
            "chatId": body.chatId,
            "disappearingMessagesInChat": expiration > 0,
            "ephemeralExpiration": expiration,
        }
    )


@router.post("/deleteMessage/{apiTokenInstance}", openapi_extra=json_body(DeleteMessageBody))
async def delete_message(instance: InstanceDep, request: Request, ctx: ContextDep) -> Response:
    """Delete a message for everyone (one the instance sent), or with ``onlySenderDelete``
    only on the instance's side. The journals then flag it ``isDeleted``. Empty answer."""
    body = parse_body(DeleteMessageBody, await _body(request, ctx))
    async with ctx.db.reading() as session:
        found = await chats.own_message(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            id_message=body.idMessage,
        )
        target = await chats.messenger_id(
            session=session, id_instance=instance.id_instance, id_message=body.idMessage
        )
    for_everyone = not body.onlySenderDelete and found.direction == Direction.OUT
    if for_everyone or instance.state == State.AUTHORIZED:
        args = {"chatId": body.chatId, "idMessage": target, "forEveryone": for_everyone}
        await _call(ctx, instance, engine_calls.DELETE_MESSAGE, args)
    await _record(ctx, instance, body.chatId, new_message_id(), deleted(body.idMessage))
    return _empty()


@router.post("/editMessage/{apiTokenInstance}", openapi_extra=json_body(EditMessageBody))
async def edit_message(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Replace the text of a text message the instance sent; the journals then show the new
    text with ``isEdited``. Answers the message's idMessage."""
    body = parse_body(EditMessageBody, await _body(request, ctx))
    async with ctx.db.reading() as session:
        found = await chats.own_message(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            id_message=body.idMessage,
        )
        target = await chats.messenger_id(
            session=session, id_instance=instance.id_instance, id_message=body.idMessage
        )
    data = orjson.loads(found.data)
    if found.direction != Direction.OUT or data.get("typeMessage") not in EDITABLE:
        raise InvalidInput("only a text message the instance sent can be edited")
    if data.get("isDeleted"):
        raise InvalidInput(chats.NOT_FOUND)
    id_edit = new_message_id()
    args = {"chatId": body.chatId, "idMessage": target, "idEdit": id_edit}
    await _call(ctx, instance, engine_calls.EDIT_MESSAGE, args | {"text": body.message})
    await _record(ctx, instance, body.chatId, id_edit, edited(body.idMessage, body.message))
    return OrjsonResponse({"idMessage": body.idMessage})


async def _record(
    ctx: Context, instance: InstanceView, chat_id: str, id_change: str, change: dict[str, Any]
) -> None:
    async with ctx.db.transaction() as session:
        await chats.record_change(
            session=session,
            signals=ctx.signals,
            instance=instance,
            type_webhook="outgoingAPIMessageReceived",
            id_change=id_change,
            chat_id=chat_id,
            sender=instance.wid,
            sender_name="",
            change=change,
        )


@router.post("/sendTyping/{apiTokenInstance}", openapi_extra=json_body(SendTypingBody))
async def send_typing(instance: InstanceDep, request: Request, ctx: ContextDep) -> Response:
    """Show the chat that the instance is typing (or recording), 1000..20000 ms. Empty answer."""
    body = parse_body(SendTypingBody, await _body(request, ctx))
    duration = body.duration_ms()
    args = {
        "chatId": body.chatId,
        "recording": body.typingType == "recording",
        "durationMs": duration,
    }
    await _call(ctx, instance, engine_calls.SEND_TYPING, args)
    return _empty()
