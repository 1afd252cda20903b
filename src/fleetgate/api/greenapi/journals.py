"""GREEN-API journals and service methods: what was sent and received, read marks, contacts."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request

from fleetgate.api import message_actions
from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.greenapi.sending_wire import (
    ChatBody,
    ChatHistoryBody,
    MessageRefBody,
    PhoneBody,
    check_chat_id,
)
from fleetgate.api.responses import OrjsonResponse
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import Direction, Message
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import digits_value, is_digits
from fleetgate.services import chats, contacts, engine_calls, journals, messaging
from fleetgate.services.media import Media

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API journals"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = (
    "lastIncomingMessages",
    "lastOutgoingMessages",
    "getChatHistory",
    "getMessage",
    "readChat",
    "checkWhatsapp",
    "getAvatar",
    "getContacts",
    "getContactInfo",
)
MINUTES_DEFAULT = 1440
MINUTES_MAX = 60 * 24 * 30
JOURNAL_MAX = 1000
NOT_AUTHORIZED_TEXT = "instance account not authorized"


def journal_item(m: Message, media: Media) -> dict[str, Any]:
    """One message as the journals show it (a file message with a fresh download link)."""
    data = orjson.loads(m.data)
    if m.media_key is not None:
        data = media.with_link(data, m.id_instance, m.media_key)
    if m.direction == Direction.OUT:
        # An edit or deletion flags the entry (services/chats.py); as_sent keeps only the text.
        shown = messaging.as_sent(data) | {k: data[k] for k in chats.CHANGE_FLAGS if k in data}
    else:
        shown = messaging.flat_quote(data)
    item: dict[str, Any] = {
        "type": "outgoing" if m.direction == Direction.OUT else "incoming",
        "idMessage": m.id_message,
        "timestamp": m.at_ms // 1000,
        "typeMessage": shown.get("typeMessage", ""),
        "chatId": m.chat_id,
    }
    if m.direction == Direction.IN:
        item |= {
            "senderId": m.sender,
            "senderName": m.sender_name,
            "senderContactName": m.sender_name,
        }
    else:
        item |= {"statusMessage": m.status, "sendByApi": m.send_by_api}
    for key, value in shown.items():
        if key == "textMessageData":
            item["textMessage"] = value.get("textMessage", "")
        elif key == "extendedTextMessageData":
            item["textMessage"] = value.get("text", "")
            item["extendedTextMessage"] = value
        elif key == "fileMessageData":
            keys = ("downloadUrl", "caption", "fileName", "mimeType", "jpegThumbnail")
            item |= {k: value.get(k, "") for k in keys}
        elif key == "locationMessageData":
            item["location"] = value
        elif key == "contactMessageData":
            item["contact"] = value
        elif key != "typeMessage":
            item[key] = value
    return item


def minutes_of(raw: str | None, body: Any) -> int:
    """The ``minutes`` of a journal request: the query's, else the body's, else 1440."""
    if raw is None and isinstance(body, dict) and "minutes" in body:
        raw = str(body["minutes"])  # the official async client sends it as a GET body
    if raw is None or raw == "":
        return MINUTES_DEFAULT
    if not is_digits(raw) or not 1 <= digits_value(raw) <= MINUTES_MAX:
        raise InvalidInput(f"minutes must be an integer from 1 to {MINUTES_MAX}")
    return digits_value(raw)


async def _last(
    ctx: Context,
    instance: InstanceView,
    request: Request,
    direction: Direction,
    minutes: str | None,
) -> OrjsonResponse:
    span = minutes_of(minutes, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        found = await journals.recent(
            session=session,
            id_instance=instance.id_instance,
            direction=direction,
            since_ms=now_ms() - span * 60_000,
            limit=JOURNAL_MAX,
        )
    return OrjsonResponse([journal_item(m, ctx.media) for m in found])


@router.get("/lastIncomingMessages/{apiTokenInstance}")
async def last_incoming(
    instance: InstanceDep, request: Request, ctx: ContextDep, minutes: str | None = None
) -> OrjsonResponse:
    """Messages received in the last ``minutes`` (default 1440), newest first."""
    return await _last(ctx, instance, request, Direction.IN, minutes)


@router.get("/lastOutgoingMessages/{apiTokenInstance}")
async def last_outgoing(
    instance: InstanceDep, request: Request, ctx: ContextDep, minutes: str | None = None
) -> OrjsonResponse:
    """Messages sent in the last ``minutes`` (default 1440), newest first."""
    return await _last(ctx, instance, request, Direction.OUT, minutes)


@router.post("/getChatHistory/{apiTokenInstance}", openapi_extra=json_body(ChatHistoryBody))
async def get_chat_history(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """The newest ``count`` (default 100) messages of a chat, both ways, newest first."""
    body = parse_body(ChatHistoryBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        found = await journals.chat_history(
            session=session,
            id_instance=instance.id_instance,
            chat_id=body.chatId,
            limit=body.count or 100,
        )
    return OrjsonResponse([journal_item(m, ctx.media) for m in found])


@router.post("/getMessage/{apiTokenInstance}", openapi_extra=json_body(MessageRefBody))
async def get_message(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """One message of a chat by its idMessage."""
    body = parse_body(MessageRefBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        found = await journals.find_message(
            session=session, id_instance=instance.id_instance, id_message=body.idMessage
        )
    if found is None or found.chat_id != body.chatId or found.queued:
        raise NotFound("message not found")
    return OrjsonResponse(journal_item(found, ctx.media))


@router.post("/readChat/{apiTokenInstance}", openapi_extra=json_body(ChatBody))
async def read_chat(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Mark a chat's incoming messages (or one of them) read; their senders see it."""
    body = parse_body(ChatBody, await read_json(request, ctx.settings.http.max_body_bytes))
    await message_actions.read_chat(ctx, instance, body.chatId, body.idMessage)
    return OrjsonResponse({"setRead": True})


async def _exists(ctx: Context, instance: InstanceView, phone: str) -> bool:
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_AUTHORIZED_TEXT)
    answer = await engine_calls.call_engine(
        db=ctx.db,
        signals=ctx.signals,
        id_instance=instance.id_instance,
        method=engine_calls.EXISTS,
        args={"phone": phone},
    )
    return bool(answer)


@router.post("/checkWhatsapp/{apiTokenInstance}", openapi_extra=json_body(PhoneBody))
async def check_whatsapp(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Whether a phone number has an account."""
    body = parse_body(PhoneBody, await read_json(request, ctx.settings.http.max_body_bytes))
    phone = body.phone()
    if not is_digits(phone) or not 11 <= len(phone) <= 12:
        raise InvalidInput("bad phone number, valid 11 or 12 digits")
    return OrjsonResponse({"existsWhatsapp": await _exists(ctx, instance, phone)})


@router.post("/getAvatar/{apiTokenInstance}", openapi_extra=json_body(ChatBody))
async def get_avatar(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """The avatar of a chat: the account's own picture (setProfilePicture) for its own
    number; the sandbox shows no others (an empty URL)."""
    body = parse_body(ChatBody, await read_json(request, ctx.settings.http.max_body_bytes))
    phone = body.chatId.removesuffix("@c.us")
    exists = await _exists(ctx, instance, phone) if phone != body.chatId else True
    url = ""
    if instance.wid and body.chatId == instance.wid:  # the account's own picture, if it set one
        async with ctx.db.reading() as session:
            key = await contacts.picture_key(session=session, id_instance=instance.id_instance)
        if key is not None:
            url = ctx.media.link(instance.id_instance, key, "avatar.jpg")
    return OrjsonResponse({"existsWhatsapp": exists, "urlAvatar": url, "reason": ""})


@router.get("/getContacts/{apiTokenInstance}")
async def get_contacts(
    instance: InstanceDep, ctx: ContextDep, group: str | None = None, count: str | None = None
) -> OrjsonResponse:
    """The chats the instance has messages in (``?group=true|false``, ``?count=``)."""
    limit = min(digits_value(count), JOURNAL_MAX) if count and is_digits(count) else JOURNAL_MAX
    async with ctx.db.reading() as session:
        chats = await journals.list_chats(
            session=session, id_instance=instance.id_instance, limit=max(1, limit)
        )
    items = [
        {
            "id": chat_id,
            "name": name,
            "contactName": name,
            "type": "group" if chat_id.endswith("@g.us") else "user",
        }
        for chat_id, name in chats
    ]
    if group in ("true", "false"):
        items = [i for i in items if (i["type"] == "group") == (group == "true")]
    return OrjsonResponse(items)


@router.post("/getContactInfo/{apiTokenInstance}", openapi_extra=json_body(ChatBody))
async def get_contact_info(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """What is known of a contact."""
    raw = await read_json(request, ctx.settings.http.max_body_bytes)
    chat_id = check_chat_id(str(raw.get("chatId", "")) if isinstance(raw, dict) else "")
    async with ctx.db.reading() as session:
        names = dict(
            await journals.list_chats(
                session=session, id_instance=instance.id_instance, limit=JOURNAL_MAX
            )
        )
        state = await chats.chat_info(
            session=session, id_instance=instance.id_instance, chat_id=chat_id
        )
    name = names.get(chat_id, "")
    return OrjsonResponse(
        {
            "avatar": "",
            "name": name,
            "contactName": name,
            "email": "",
            "category": "",
            "description": "",
            "products": [],
            "chatId": chat_id,
            "lastSeen": None,
            "isArchive": state.archived,
            "isDisappearing": state.ephemeral_expiration > 0,
            "isMute": False,
            "messageExpiration": state.ephemeral_expiration,
            "muteExpiration": None,
            "isBusiness": False,
        }
    )
