"""Z-API chats (spec §10): the chat list, one chat, modify-chat, the disappearing timer and a
chat's messages.

The list comes from the instance's journal (chats with messages) and the marks fleetgate keeps
on them; modify-chat tells the engine (the marks live on the account's devices) and keeps the
mark, so the list shows it. Refusals of bad input are errors in Z-API's format, nothing changed.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import chats_wire as wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.lists import any_chat, call, window
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.messages import Direction, Message
from fleetgate.errors import InvalidInput, NotFound, NotReady
from fleetgate.ids import is_digits
from fleetgate.services import chat_marks, chats, engine_calls, journals, zapi_callbacks

router = APIRouter(prefix=PREFIX, tags=["Z-API chats"], route_class=ZapiRoute)

AMOUNT_DEFAULT = 10
AMOUNT_MAX = 1000
_MESSAGE_ID_MAX = 64
NO_CHAT = "chat not found"


@router.get("/chats")
async def list_chats(
    instance: InstanceDep, ctx: ContextDep, page: str | None = None, pageSize: str | None = None
) -> OrjsonResponse:
    """A page of the chats: pinned first, then the most recently active. A bare array."""
    offset, limit = window(page, pageSize)
    async with ctx.db.reading() as session:
        found = await chat_marks.chat_list(
            session=session, id_instance=instance.id_instance, offset=offset, limit=limit
        )
    now = now_ms()
    return OrjsonResponse([wire.chat_item(c, now) for c in found])


async def _one_chat(ctx: ContextDep, instance: InstanceDep, phone: str) -> OrjsonResponse:
    chat_id = any_chat(phone)
    async with ctx.db.reading() as session:
        found = await chat_marks.chat_list(
            session=session, id_instance=instance.id_instance, offset=0, limit=1, chat_ids=[chat_id]
        )
    if not found:
        raise NotFound(NO_CHAT)
    return OrjsonResponse(wire.chat_metadata(found[0], now_ms()))


@router.get("/chats/{phone}")
async def get_chat(phone: str, instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """One chat's metadata (a person's number or a group id); 404 for a chat without
    messages."""
    return await _one_chat(ctx, instance, phone)


@router.get("/chat/{phone}")
async def get_chat_singular(phone: str, instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The same as ``GET /chats/{phone}`` (the Z-API pages show both paths)."""
    return await _one_chat(ctx, instance, phone)


@router.post("/modify-chat", openapi_extra=json_body(wire.ModifyChat))
async def modify_chat(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """archive, unarchive, pin, unpin, mute, unmute, clear, delete, read or unread a chat:
    ``{"value": true}``."""
    body = await parsed(wire.ModifyChat, request, ctx)
    chat_id = any_chat(body.phone)
    if body.action in ("archive", "unarchive"):
        args = {"chatId": chat_id, "archived": body.action == "archive"}
        await call(ctx, instance, engine_calls.ARCHIVE_CHAT, args)
    else:
        args = {"chatId": chat_id, "action": body.action}
        await call(ctx, instance, engine_calls.MODIFY_CHAT, args)
    async with ctx.db.transaction() as session:
        read = await chat_marks.apply(
            session=session, id_instance=instance.id_instance, chat_id=chat_id, action=body.action
        )
    if read:
        try:  # the senders see the messages read
            await call(ctx, instance, engine_calls.READ_CHAT, {"chatId": chat_id, "ids": read})
        except NotReady:
            pass  # the read marks are kept; only the senders' read receipts are missed
    return OrjsonResponse({"value": True})


@router.post("/send-chat-expiration", openapi_extra=json_body(wire.ChatExpiration))
async def send_chat_expiration(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Set a chat's disappearing-messages timer (``24_HOURS``, ``7_DAYS``, ``90_DAYS`` or
    ``OFF``): ``{"value": true}``."""
    body = await parsed(wire.ChatExpiration, request, ctx)
    chat_id = any_chat(body.phone)
    expiration = wire.EXPIRATIONS[body.chatExpiration]
    args = {"chatId": chat_id, "expiration": expiration}
    await call(ctx, instance, engine_calls.SET_DISAPPEARING, args)
    async with ctx.db.transaction() as session:
        await chats.set_disappearing(
            session=session,
            id_instance=instance.id_instance,
            chat_id=chat_id,
            expiration_s=expiration,
        )
    return OrjsonResponse({"value": True})


@router.get("/chat-messages/{phone}")
async def chat_messages(
    phone: str,
    instance: InstanceDep,
    ctx: ContextDep,
    amount: str | None = None,
    lastMessageId: str | None = None,
) -> Response:
    """The chat's messages, newest first, as ReceivedCallback bodies without ``type``:
    ``amount`` of them (default 10, at most 1000), older than ``lastMessageId`` if given.
    Messages from before a clear or delete of the chat are not shown."""
    chat_id = any_chat(phone)
    if amount not in (None, "") and (not is_digits(amount) or not 1 <= int(amount) <= AMOUNT_MAX):
        raise InvalidInput(f"amount must be an integer from 1 to {AMOUNT_MAX}")
    count = int(amount) if amount else AMOUNT_DEFAULT
    if lastMessageId is not None and not 1 <= len(lastMessageId) <= _MESSAGE_ID_MAX:
        raise InvalidInput("lastMessageId must be a message id")
    async with ctx.db.reading() as session:
        cleared = await chat_marks.cleared_ms(
            session=session, id_instance=instance.id_instance, chat_id=chat_id
        )
        before = None
        if lastMessageId:
            anchor = await journals.find_message(
                session=session, id_instance=instance.id_instance, id_message=lastMessageId
            )
            if anchor is None or anchor.chat_id != chat_id:
                raise InvalidInput("lastMessageId is not a message of this chat")
            before = anchor
        # Enough to page past the anchor: the journal is read newest first.
        found = await journals.chat_history(
            session=session, id_instance=instance.id_instance, chat_id=chat_id, limit=AMOUNT_MAX * 2
        )
    if before is not None:
        at = next((i for i, m in enumerate(found) if m.id == before.id), len(found))
        found = found[at + 1 :]
    items = [_message(ctx, instance, m) for m in found if m.at_ms > cleared][:count]
    return OrjsonResponse(items)


def _message(ctx: Context, instance: InstanceView, m: Message) -> dict[str, Any]:
    data = orjson.loads(m.data)
    if m.media_key is not None:
        data = ctx.media.with_link(data, m.id_instance, m.media_key)
    from_me = m.direction == Direction.OUT
    fields = {
        "idMessage": m.id_message,
        "senderData": {
            "chatId": m.chat_id,
            "sender": m.sender,
            "senderName": m.sender_name,
            "chatName": "",
        },
        "messageData": data,
    }
    body = zapi_callbacks.received_body(
        instance=instance, fields=fields, now=m.at_ms, from_me=from_me, from_api=m.send_by_api
    )
    body.pop("type", None)
    if from_me:
        body["status"] = zapi_callbacks.RECEIPT_STATUS.get(m.status, "SENT")
    return body
