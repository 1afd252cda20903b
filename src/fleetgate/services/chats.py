"""Chats and what happens to sent messages: archive flags, disappearing timers, edits and
deletions shown in the journals, calls and blocks, and the notifications they cause.

Edits and deletions change the journal entry of the message they name (GREEN-API's journals
flag ``isEdited``/``isDeleted``); the change itself is notified as a message of its own kind,
behind its switch as well as the switch of its direction.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.chats import Call, CallStatus, ChatInfo
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.messages import Direction, Message
from fleetgate.errors import InvalidInput
from fleetgate.services import outbox
from fleetgate.storage.repos import chats as repo
from fleetgate.storage.repos import messages as messages_repo
from fleetgate.storage.signals import Signals

# typeMessage -> the switch it needs besides the one of its notification's type.
EXTRA_SWITCH = {
    "editedMessage": "edited_message_webhook",
    "deletedMessage": "deleted_message_webhook",
    "pollUpdateMessage": "poll_message_webhook",
}
NOT_FOUND = "Message by id not found"
# What an edit or deletion adds to the data of the message it changes.
CHANGE_FLAGS = ("isEdited", "editedMessageId", "isDeleted", "deletedMessageId")


def wanted(instance: InstanceView, data: dict[str, Any]) -> bool:
    """Whether the instance's switches want a GREEN-API notification of a message of this
    type at all."""
    switch = EXTRA_SWITCH.get(str(data.get("typeMessage", "")))
    return switch is None or instance.switches.get(switch, False)


def change_target(data: dict[str, Any]) -> str | None:
    """The id of the message an editedMessage or deletedMessage changes, else None."""
    for key in ("editedMessageData", "deletedMessageData"):
        inner = data.get(key)
        if isinstance(inner, dict) and isinstance(inner.get("stanzaId"), str):
            return str(inner["stanzaId"])
    return None


def _edited_text(data: dict[str, Any], text: str) -> dict[str, Any]:
    """``data`` with its text replaced wherever it holds it (a reply holds it twice), or a
    file's caption."""
    edited = dict(data)
    if "textMessageData" in data:
        edited["textMessageData"] = data["textMessageData"] | {"textMessage": text}
    if "extendedTextMessageData" in data:
        edited["extendedTextMessageData"] = data["extendedTextMessageData"] | {"text": text}
    if "fileMessageData" in data:
        edited["fileMessageData"] = data["fileMessageData"] | {"caption": text}
    return edited


async def apply_change(
    *, session: AsyncSession, message: Message, id_change: str, change: dict[str, Any]
) -> bool:
    """Show an edit or deletion in the journal entry it names; False if shown already."""
    data = orjson.loads(message.data)
    if change.get("typeMessage") == "editedMessage":
        if data.get("editedMessageId") == id_change:
            return False
        text = str(change["editedMessageData"].get("textMessage", ""))
        data = _edited_text(data, text) | {"isEdited": True, "editedMessageId": id_change}
    else:
        if data.get("isDeleted"):
            return False
        data = data | {"isDeleted": True, "deletedMessageId": id_change}
    await messages_repo.set_data(session, message.id, orjson.dumps(data).decode())
    return True


async def record_change(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    type_webhook: str,
    id_change: str,
    chat_id: str,
    sender: str,
    sender_name: str,
    change: dict[str, Any],
) -> None:
    """An edit or deletion of a message of the instance's journal happened (sent by the
    other side, by the account's phone, or through the API): journal and notify it."""
    target = change_target(change)
    found = (
        None if target is None else await messages_repo.by_id(session, instance.id_instance, target)
    )
    if found is not None and found.chat_id == chat_id:
        if not await apply_change(
            session=session, message=found, id_change=id_change, change=change
        ):
            return  # taken in before: notified then
    name = sender_name
    # Z-API has no switches for edits and deletions: only the GREEN-API side waits on them.
    await outbox.emit(
        session=session,
        signals=signals,
        instance=instance,
        type_webhook=type_webhook,
        fields={
            "idMessage": id_change,
            "senderData": {
                "chatId": chat_id,
                "chatName": name,
                "sender": sender,
                "senderName": name,
                "senderContactName": name,
            },
            "messageData": change,
        },
        green=wanted(instance, change),
    )


async def own_message(
    *, session: AsyncSession, id_instance: int, chat_id: str, id_message: str
) -> Message:
    """A sent or received message of the chat (not one still queued), or InvalidInput."""
    found = await messages_repo.by_id(session, id_instance, id_message)
    if found is None or found.chat_id != chat_id or found.queued:
        raise InvalidInput(NOT_FOUND)
    return found


async def messenger_id(*, session: AsyncSession, id_instance: int, id_message: str) -> str:
    """The id the messenger knows a message by: its own for a message we sent under ours
    (recorded when it was sent), else the same id. Engines get this one for edits and deletions,
    which must name the message as the messenger does even after a restart."""
    remote = await messages_repo.remote_ids(session, id_instance, [id_message])
    return remote.get(id_message, id_message)


async def list_chats(*, session: AsyncSession, id_instance: int, limit: int) -> list[ChatInfo]:
    """The instance's chats, most recently active first, with what was set on them."""
    return await repo.chats(session, id_instance, limit=limit)


async def chat_info(*, session: AsyncSession, id_instance: int, chat_id: str) -> ChatInfo:
    """What was set on one chat (archive flag, disappearing timer)."""
    return await repo.chat_info(session, id_instance, chat_id)


async def check_archivable(
    *, session: AsyncSession, id_instance: int, chat_id: str, archived: bool
) -> None:
    """Refuse as GREEN-API does: archiving needs a message in the chat, unarchiving an
    archived chat."""
    if archived and not await repo.has_messages(session, id_instance, chat_id):
        raise InvalidInput(
            "ArchiveChatError: cannot archive chat cause last message not found in chat"
        )
    if not archived and not await repo.is_archived(session, id_instance, chat_id):
        raise InvalidInput(f"UnarchiveChatError: chat with id {chat_id} already archive=false")


async def set_archived(
    *, session: AsyncSession, id_instance: int, chat_id: str, archived: bool
) -> None:
    """Archive or unarchive a chat."""
    row = await repo.chat_row(session, id_instance, chat_id)
    row.archived = archived
    await session.flush()


async def set_disappearing(
    *, session: AsyncSession, id_instance: int, chat_id: str, expiration_s: int
) -> None:
    """Set a chat's disappearing-messages timer (0: off)."""
    row = await repo.chat_row(session, id_instance, chat_id)
    row.ephemeral_expiration, row.ephemeral_ms = expiration_s, now_ms()
    await session.flush()


async def record_call(
    *,
    session: AsyncSession,
    signals: Signals,
    instance: InstanceView,
    id_call: str,
    chat_id: str,
    status: CallStatus,
    is_video: bool,
    from_me: bool,
) -> None:
    """Journal a call's new status; an incoming one is notified (incomingCall) where both
    incomingWebhook and incomingCallWebhook are on."""
    changed = await repo.record_call(
        session,
        instance.id_instance,
        id_call=id_call,
        direction=Direction.OUT if from_me else Direction.IN,
        chat_id=chat_id,
        is_video=is_video,
        status=status,
        at_ms=now_ms(),
    )
    if changed and not from_me and instance.switches.get("incoming_webhook", False):
        await outbox.emit(
            session=session,
            signals=signals,
            instance=instance,
            type_webhook="incomingCall",
            fields={"from": chat_id, "idMessage": id_call, "status": status},
        )


async def record_block(
    *, session: AsyncSession, signals: Signals, instance: InstanceView, chat_id: str
) -> None:
    """A contact blocked the account: notified (incomingBlock) where incomingBlockWebhook is on."""
    await outbox.emit(
        session=session,
        signals=signals,
        instance=instance,
        type_webhook="incomingBlock",
        fields={"chatId": chat_id, "chatState": "blocked"},
    )


async def recent_calls(
    *, session: AsyncSession, id_instance: int, direction: Direction, since_ms: int, limit: int
) -> list[Call]:
    """Calls of one direction since ``since_ms``, newest first."""
    return await repo.calls(
        session, id_instance, direction=direction, since_ms=since_ms, limit=limit
    )
