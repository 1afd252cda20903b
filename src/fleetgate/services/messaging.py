"""Messages: the send queue, what sending and receiving write, receipts, read marks.

Every change here is written together with the notifications it causes (outbox), in the
caller's transaction.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import RECEIPT_ORDER, Direction, Message, MessageStatus
from fleetgate.engines.base import IncomingMessage
from fleetgate.errors import NotReady
from fleetgate.ids import new_message_id
from fleetgate.services import chats, engine_calls, outbox
from fleetgate.services.media import Media
from fleetgate.storage.blobs import new_key
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import messages as repo
from fleetgate.storage.signals import Signals


async def enqueue(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    chat_id: str,
    message_data: dict[str, Any],
    delay_ms: int = 0,
    media_key: str | None = None,
    request: dict[str, Any] | None = None,
) -> str:
    """Put a message at the tail of the instance's send queue; its idMessage.

    ``delay_ms`` asks for a longer pause before it than the instance's own. An instance set
    not to queue while disconnected refuses the message then (NotReady).
    """
    values = queued_message(instance, chat_id, message_data, delay_ms, media_key, request)
    await repo.add(session, **values)
    await signals.send(session, engine_calls.RUNNER_CHANNEL, str(instance.id_instance))
    return str(values["id_message"])


def queued_message(
    instance: InstanceView,
    chat_id: str,
    message_data: dict[str, Any],
    delay_ms: int,
    media_key: str | None = None,
    request: dict[str, Any] | None = None,
) -> dict[str, object]:
    """The row of a message put at the tail of the send queue (see :func:`enqueue`).
    ``request``: what the request that queued it said (``{"type", "body"}``), for the queue."""
    if (
        instance.options.get("disable_enqueue_when_disconnected")
        and instance.state != State.AUTHORIZED
    ):
        raise NotReady("the instance is not connected and does not queue messages meanwhile")
    return {
        "id_instance": instance.id_instance,
        "id_message": new_message_id(),
        "direction": Direction.OUT,
        "chat_id": chat_id,
        "sender": instance.wid,
        "sender_name": "",
        "type_message": message_data["typeMessage"],
        "data": orjson.dumps(message_data).decode(),
        "at_ms": now_ms(),
        "status": MessageStatus.QUEUED,
        "send_by_api": True,
        "queued": True,
        "delay_ms": delay_ms,
        "media_key": media_key,
        "request": None if request is None else orjson.dumps(request).decode(),
    }


async def record_sent(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    message: Message,
    remote_id: str | None = None,
) -> None:
    """The engine sent a queued message: journal it and notify (API message, status sent).
    ``remote_id``: the messenger's own id for it, when the engine could not use ours.

    A receipt can beat this (the other side answered before we wrote down that we sent):
    then the status it left is kept, and its notification follows the "sent" one here.
    """
    now = now_ms()
    reached = await repo.dequeue_sent(session, message.id, at_ms=now, remote_id=remote_id)
    if reached is None:
        return
    await instances_repo.update_values(
        session, signals, instance.id_instance, {"last_send_ms": now}
    )
    data = orjson.loads(message.data)
    await _emit(
        session,
        signals,
        instance,
        "outgoingAPIMessageReceived",
        {
            "idMessage": message.id_message,
            "senderData": _sender_data(message.chat_id, instance.wid, ""),
            "messageData": as_sent(data),
        },
    )
    for status in RECEIPT_ORDER[: _rank(reached)]:
        await _status(session, signals, instance, message, status)


async def record_failed(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    message: Message,
    status: MessageStatus,
    description: str,
) -> None:
    """A queued message could not be sent (or expired in the queue)."""
    if await repo.dequeue(session, message.id, status=status, at_ms=now_ms()):
        await _status(session, signals, instance, message, status, description=description)


async def record_incoming(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    message: IncomingMessage,
    media: Media,
) -> bool:
    """Journal and notify an incoming message, or one the account's own phone sent
    (``from_me``: an outgoing message, sent); False if it had arrived before. A file it
    carries gets a file row of the instance, and the message a download link to it. An edit
    or deletion changes the message it names instead (services/chats.py)."""
    type_webhook = "outgoingMessageReceived" if message.from_me else "incomingMessageReceived"
    if chats.change_target(message.message_data) is not None:
        await chats.record_change(
            session=session,
            signals=signals,
            instance=instance,
            type_webhook=type_webhook,
            id_change=message.id_message,
            chat_id=message.chat_id,
            sender=message.sender,
            sender_name=message.sender_name,
            change=message.message_data,
        )
        return False
    data, media_key = message.message_data, None
    if message.file is not None:
        media_key = new_key()
        data = media.with_link(data, instance.id_instance, media_key)
    if message.from_me:
        status = MessageStatus.SENT
    elif instance.switches.get("mark_incoming_messages_read", False) and not (
        instance.switches.get("mark_incoming_messages_read_on_reply", False)
    ):
        status = MessageStatus.READ
    else:
        status = MessageStatus.UNREAD
    added = await repo.add(
        session,
        id_instance=instance.id_instance,
        id_message=message.id_message,
        direction=Direction.OUT if message.from_me else Direction.IN,
        chat_id=message.chat_id,
        sender=message.sender,
        sender_name=message.sender_name,
        type_message=data.get("typeMessage", ""),
        data=orjson.dumps(data).decode(),
        at_ms=message.at_ms or now_ms(),
        status=status,
        send_by_api=False,
        queued=False,
        media_key=media_key,
    )
    if added and message.file is not None and media_key is not None:
        await media.add_row(session, message.file, id_instance=instance.id_instance, key=media_key)
    # Z-API has no switches for edits, deletions or votes: only the GREEN-API side waits on them.
    if added:
        await _emit(
            session,
            signals,
            instance,
            type_webhook,
            {
                "idMessage": message.id_message,
                "senderData": _sender_data(
                    message.chat_id, message.sender, message.sender_name, message.chat_name
                ),
                "messageData": flat_quote(data),
            },
            green=chats.wanted(instance, data),
        )
    return added


async def record_receipt(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    id_message: str,
    status: MessageStatus,
) -> None:
    """Move an outgoing message's status forward (sent -> delivered -> read) and notify.
    ``id_message`` is ours, or the messenger's own id of a message sent under another."""
    message = await repo.by_id(session, instance.id_instance, id_message)
    if message is None:
        message = await repo.by_remote_id(session, instance.id_instance, id_message)
    if message is None or message.direction != Direction.OUT:
        return
    if _rank(status) <= 0:
        return
    # Only forward, and decided by the UPDATE itself: a concurrent record_sent cannot race it.
    lower = (MessageStatus.QUEUED, *RECEIPT_ORDER[: _rank(status) - 1])
    queued = await repo.advance_status(session, message.id, status=status, from_statuses=lower)
    if queued is False:  # if still queued, record_sent (to come) notifies it
        await _status(session, signals, instance, message, status)


async def read_incoming(
    *, session: AsyncSession, id_instance: int, chat_id: str, id_message: str | None
) -> list[str]:
    """Mark a chat's unread incoming messages (or one of them) read; the ids that changed."""
    ids = await repo.unread_from(session, id_instance, chat_id, id_message)
    if ids:
        await repo.mark_read(session, id_instance, ids)
    return ids


# Where a message names the one it points at besides a quote: a pin (fleetgate's pinMessage)
# and a poll vote (pollUpdateMessage) carry its id in their own data.
_POINTING = ("pinMessageData", "pollMessageData")


def quoted_id(data: dict[str, Any]) -> str | None:
    """The id of the message ``data`` quotes or points at (a pin's, a vote's), if any."""
    quoted = data.get("quotedMessage")
    stanza = quoted.get("stanzaId") if isinstance(quoted, dict) else None
    for key in _POINTING:
        part = data.get(key)
        if stanza is None and isinstance(part, dict):
            stanza = part.get("stanzaId")
    return stanza if isinstance(stanza, str) else None


async def with_remote_quotes(
    *, session: AsyncSession, id_instance: int, data: dict[str, Any]
) -> dict[str, Any]:
    """``data`` with the id of the message it quotes or points at as the messenger knows it (a
    message we sent under our id and the messenger under its own), ready for the engine."""
    stanza = quoted_id(data)
    if stanza is None:
        return data
    remote = (await repo.remote_ids(session, id_instance, [stanza])).get(stanza)
    if remote is None:
        return data
    mapped = dict(data)
    for key in ("quotedMessage", "extendedTextMessageData", *_POINTING):
        part = data.get(key)
        if isinstance(part, dict) and part.get("stanzaId") == stanza:
            mapped[key] = part | {"stanzaId": remote}
    return mapped


_FILE_KEYS = ("downloadUrl", "caption", "fileName", "jpegThumbnail", "mimeType")


def flat_quote(data: dict[str, Any]) -> dict[str, Any]:
    """Message data whose ``quotedMessage`` shows as GREEN-API documents it: the quoted
    message's fields beside ``stanzaId``, ``participant`` and ``typeMessage`` (``textMessage``,
    the file keys, ``location``, ``contact``), not nested in its ``…MessageData`` object.

    The stored data keeps the nested form, which engines read to build the reply.
    """
    quoted = data.get("quotedMessage")
    if not isinstance(quoted, dict):
        return data
    flat: dict[str, Any] = {}
    for key, value in quoted.items():
        if key == "textMessageData" and isinstance(value, dict):
            flat["textMessage"] = value.get("textMessage", "")
        elif key == "extendedTextMessageData" and isinstance(value, dict):
            flat["textMessage"] = value.get("text", "")
        elif key == "fileMessageData" and isinstance(value, dict):
            flat |= {k: value.get(k, "") for k in _FILE_KEYS}
        elif key == "locationMessageData":
            flat["location"] = value
        elif key == "contactMessageData":
            flat["contact"] = value
        else:
            flat[key] = value
    return data | {"quotedMessage": flat}


def as_sent(data: dict[str, Any]) -> dict[str, Any]:
    """How a sent message shows in outgoing notifications: a text as an extended text, as
    real ones do; a quote in its documented flat form."""
    if data.get("typeMessage") != "textMessage":
        return flat_quote(data)
    text = data["textMessageData"]["textMessage"]
    return {
        "typeMessage": "extendedTextMessage",
        "extendedTextMessageData": {
            "text": text,
            "description": "",
            "title": "",
            "previewType": "None",
            "jpegThumbnail": "",
            "forwardingScore": data.get("forwardingScore", 0),
            "isForwarded": data.get("isForwarded", False),
        },
    }


def _rank(status: str) -> int:
    """queued 0, sent 1, delivered 2, read 3; anything else (failed, ...) -1: final."""
    if status == MessageStatus.QUEUED:
        return 0
    return RECEIPT_ORDER.index(status) + 1 if status in RECEIPT_ORDER else -1


def _sender_data(chat_id: str, sender: str, name: str, chat_name: str = "") -> dict[str, str]:
    return {
        "chatId": chat_id,
        "chatName": chat_name or name,
        "sender": sender,
        "senderName": name,
        "senderContactName": name,
    }


async def _status(
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    message: Message,
    status: MessageStatus,
    *,
    description: str | None = None,
) -> None:
    fields: dict[str, Any] = {
        "chatId": message.chat_id,
        "idMessage": message.id_message,
        "status": status,
        "sendByApi": message.send_by_api,
    }
    if description:
        fields["description"] = description
    await _emit(session, signals, instance, "outgoingMessageStatus", fields)


async def _emit(
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    type_webhook: str,
    fields: dict[str, Any],
    *,
    green: bool = True,
) -> None:
    await outbox.emit(
        session=session,
        signals=signals,
        instance=instance,
        type_webhook=type_webhook,
        fields=fields,
        green=green,
    )
