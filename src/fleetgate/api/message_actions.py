"""What every façade does to messages already in a chat: delete, edit, read and forward them.

GREEN-API (deleteMessage, editMessage, readChat, forwardMessages) and Z-API (``DELETE
/messages``, send-text's ``editMessageId``, read-message, forward-message) name these
differently but mean the same: each reaches the instance's engine through an engine call, or
queues new messages, and is written down once here, so both façades leave the same trace in
the journals and on the other side of the network.
"""

from __future__ import annotations

from typing import Any

import orjson

from fleetgate.context import Context
from fleetgate.domain.chats import deleted, edited
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import Direction, Message
from fleetgate.errors import InvalidInput, NotReady
from fleetgate.ids import new_message_id
from fleetgate.services import chats, engine_calls, journals, messaging

NOT_AUTHORIZED_TEXT = "instance account not authorized"
# The message types an edit changes (a text, as GREEN-API allows).
EDITABLE = ("textMessage", "extendedTextMessage", "quotedMessage")


async def call(ctx: Context, instance: InstanceView, method: str, args: dict[str, Any]) -> Any:
    """Run an engine call on an authorized instance; its answer."""
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_AUTHORIZED_TEXT)
    return await engine_calls.call_engine(
        db=ctx.db, signals=ctx.signals, id_instance=instance.id_instance, method=method, args=args
    )


async def chat_message(
    ctx: Context, instance: InstanceView, chat_id: str, id_message: str
) -> Message:
    """A sent or received message of the chat, or InvalidInput."""
    async with ctx.db.reading() as session:
        return await chats.own_message(
            session=session,
            id_instance=instance.id_instance,
            chat_id=chat_id,
            id_message=id_message,
        )


async def target_message(
    ctx: Context, instance: InstanceView, chat_id: str, id_message: str
) -> tuple[Message, str]:
    """A sent or received message of the chat (or InvalidInput), and the id the messenger
    knows it by, which engines get for edits and deletions: a session maps our ids to the
    messenger's only for its own recent sends, so after a restart only the journal knows."""
    async with ctx.db.reading() as session:
        found = await chats.own_message(
            session=session,
            id_instance=instance.id_instance,
            chat_id=chat_id,
            id_message=id_message,
        )
        target = await chats.messenger_id(
            session=session, id_instance=instance.id_instance, id_message=id_message
        )
    return found, target


async def delete_message(
    ctx: Context, instance: InstanceView, chat_id: str, id_message: str, *, only_mine: bool
) -> None:
    """Delete a message for everyone (one the instance sent, unless ``only_mine``), or only on
    the instance's side; the journals then flag it ``isDeleted``."""
    found, target = await target_message(ctx, instance, chat_id, id_message)
    for_everyone = not only_mine and found.direction == Direction.OUT
    if for_everyone or instance.state == State.AUTHORIZED:
        args = {"chatId": chat_id, "idMessage": target, "forEveryone": for_everyone}
        await call(ctx, instance, engine_calls.DELETE_MESSAGE, args)
    await record(ctx, instance, chat_id, new_message_id(), deleted(id_message))


async def edit_message(
    ctx: Context, instance: InstanceView, chat_id: str, id_message: str, text: str
) -> None:
    """Replace the text of a text message the instance sent; the journals then show the new
    text with ``isEdited``."""
    found, target = await target_message(ctx, instance, chat_id, id_message)
    data = orjson.loads(found.data)
    if found.direction != Direction.OUT or data.get("typeMessage") not in EDITABLE:
        raise InvalidInput("only a text message the instance sent can be edited")
    if data.get("isDeleted"):
        raise InvalidInput(chats.NOT_FOUND)
    id_edit = new_message_id()
    args = {"chatId": chat_id, "idMessage": target, "idEdit": id_edit}
    await call(ctx, instance, engine_calls.EDIT_MESSAGE, args | {"text": text})
    await record(ctx, instance, chat_id, id_edit, edited(id_message, text))


async def record(
    ctx: Context, instance: InstanceView, chat_id: str, id_change: str, change: dict[str, Any]
) -> None:
    """Journal and notify an edit or deletion made through the API."""
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


async def read_chat(
    ctx: Context, instance: InstanceView, chat_id: str, id_message: str | None
) -> None:
    """Mark a chat's incoming messages (or those up to one of them) read; their senders see it
    when the instance is connected."""
    async with ctx.db.transaction() as session:
        ids = await messaging.read_incoming(
            session=session,
            id_instance=instance.id_instance,
            chat_id=chat_id,
            id_message=id_message,
        )
    if ids and instance.state == State.AUTHORIZED:
        try:
            await call(ctx, instance, engine_calls.READ_CHAT, {"chatId": chat_id, "ids": ids})
        except NotReady:
            pass  # the read marks are kept; only the senders' read receipts are missed


async def forward(
    ctx: Context,
    instance: InstanceView,
    chat_id: str,
    chat_from: str,
    ids: list[str],
    *,
    error: str,
    request: dict[str, Any] | None = None,
) -> list[str]:
    """Queue copies of messages of ``chat_from`` to ``chat_id``, flagged forwarded; their new
    ids in order. ``error``: the façade's text for an id of no message of ``chat_from``;
    ``request``: what the queue shows for them all."""
    async with ctx.db.reading() as session:
        found = [
            await journals.find_message(
                session=session, id_instance=instance.id_instance, id_message=i
            )
            for i in ids
        ]
    sources = [m for m in found if m is not None and m.chat_id == chat_from]
    if len(sources) != len(ids):
        raise InvalidInput(error)
    queued = []
    async with ctx.db.transaction() as session:
        for source in sources:
            data = orjson.loads(source.data) | {"isForwarded": True, "forwardingScore": 1}
            queued.append(
                await messaging.enqueue(
                    session=session,
                    signals=ctx.signals,
                    instance=instance,
                    chat_id=chat_id,
                    message_data=data,
                    media_key=source.media_key,  # a file goes on as the same stored file
                    request=request,
                )
            )
    return queued
