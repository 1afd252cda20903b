"""GREEN-API service methods on chats and sent messages: the chat list, archive flags,
disappearing timers, deletions, edits and typing.

Each reaches the instance's engine through an engine call (an engine without the method
answers that it is not supported) and is written down here: getChats shows the archive flags
and timers, the journals show edits and deletions.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fleetgate.api import message_actions
from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.chats_wire import (
    ChatOnlyBody,
    DeleteMessageBody,
    DisappearingBody,
    EditMessageBody,
    SendTypingBody,
)
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.responses import OrjsonResponse
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.ids import digits_value, is_digits
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


def _empty() -> Response:
    """GREEN-API answers these methods with an empty body (every official client takes it)."""
    return Response(status_code=200)


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
    await message_actions.call(
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
    await message_actions.call(
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
    await message_actions.delete_message(
        ctx, instance, body.chatId, body.idMessage, only_mine=bool(body.onlySenderDelete)
    )
    return _empty()


@router.post("/editMessage/{apiTokenInstance}", openapi_extra=json_body(EditMessageBody))
async def edit_message(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Replace the text of a text message the instance sent; the journals then show the new
    text with ``isEdited``. Answers the message's idMessage."""
    body = parse_body(EditMessageBody, await _body(request, ctx))
    await message_actions.edit_message(ctx, instance, body.chatId, body.idMessage, body.message)
    return OrjsonResponse({"idMessage": body.idMessage})


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
    await message_actions.call(ctx, instance, engine_calls.SEND_TYPING, args)
    return _empty()
