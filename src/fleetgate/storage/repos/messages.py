"""Message rows: the send queue (outgoing, queued) and the journals."""

from __future__ import annotations

from sqlalchemy import case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.messages import Direction, Message, MessageStatus
from fleetgate.storage.tables import MessageRow

M = MessageRow


_COLUMNS = (
    M.id,
    M.id_instance,
    M.id_message,
    M.direction,
    M.chat_id,
    M.sender,
    M.sender_name,
    M.type_message,
    M.data,
    M.at_ms,
    M.status,
    M.send_by_api,
    M.queued,
    M.delay_ms,
    M.media_key,
    M.request,
)


def _message(r: object) -> Message:
    return Message(*r)  # type: ignore[misc]


async def add(session: AsyncSession, **values: object) -> bool:
    """Insert a message; False (and nothing written) if the instance has that id already."""
    exists = select(M.id).where(
        M.id_instance == values["id_instance"], M.id_message == values["id_message"]
    )
    if await session.scalar(exists) is not None:
        return False
    session.add(M(**values))
    await session.flush()
    return True


async def add_many(session: AsyncSession, rows: list[dict[str, object]]) -> None:
    """Insert new messages (fresh ids) in one statement."""
    await session.execute(insert(M), rows)


async def queue_head(session: AsyncSession, id_instance: int) -> Message | None:
    row = (
        await session.execute(
            select(*_COLUMNS).where(M.id_instance == id_instance, M.queued.is_(True)).order_by(M.id)
        )
    ).first()
    return _message(row) if row else None


async def queued(session: AsyncSession, id_instance: int, *, limit: int) -> list[Message]:
    rows = await session.execute(
        select(*_COLUMNS)
        .where(M.id_instance == id_instance, M.queued.is_(True))
        .order_by(M.id)
        .limit(limit)
    )
    return [_message(r) for r in rows]


async def count_queued(session: AsyncSession, id_instance: int) -> int:
    stmt = select(func.count()).where(M.id_instance == id_instance, M.queued.is_(True))
    return int(await session.scalar(stmt) or 0)


async def drop_queued(session: AsyncSession, id_instance: int) -> int:
    result = await session.execute(
        delete(M).where(M.id_instance == id_instance, M.queued.is_(True))
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def instances_with_queue(session: AsyncSession, ids: list[int]) -> list[int]:
    stmt = select(M.id_instance).where(M.id_instance.in_(ids), M.queued.is_(True)).distinct()
    return list(await session.scalars(stmt))


async def dequeue(session: AsyncSession, message_id: int, *, status: str, at_ms: int) -> bool:
    """Take a message off the queue with its outcome; False if it was no longer queued."""
    result = await session.execute(
        update(M)
        .where(M.id == message_id, M.queued.is_(True))
        .values(queued=False, status=status, at_ms=at_ms)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def dequeue_sent(
    session: AsyncSession, message_id: int, *, at_ms: int, remote_id: str | None = None
) -> str | None:
    """Take a sent message off the queue: status ``sent`` unless a receipt already moved it
    further; ``remote_id`` is the messenger's own id for it, if it has another. The status it
    ends with, or None if it was no longer queued. One statement, so a receipt committing
    meanwhile is never overwritten."""
    result = await session.execute(
        update(M)
        .where(M.id == message_id, M.queued.is_(True))
        .values(
            queued=False,
            at_ms=at_ms,
            remote_id=remote_id,
            status=case(
                (M.status.in_((MessageStatus.DELIVERED, MessageStatus.READ)), M.status),
                else_=MessageStatus.SENT.value,
            ),
        )
        .returning(M.status)
    )
    return result.scalar_one_or_none()


async def advance_status(
    session: AsyncSession, message_id: int, *, status: str, from_statuses: tuple[str, ...]
) -> bool | None:
    """Set ``status`` if the message is in one of ``from_statuses``; whether it is still
    queued afterwards, or None if nothing changed."""
    result = await session.execute(
        update(M)
        .where(M.id == message_id, M.status.in_(from_statuses))
        .values(status=status)
        .returning(M.queued)
    )
    return result.scalar_one_or_none()


async def by_id(session: AsyncSession, id_instance: int, id_message: str) -> Message | None:
    row = (
        await session.execute(
            select(*_COLUMNS).where(M.id_instance == id_instance, M.id_message == id_message)
        )
    ).first()
    return _message(row) if row else None


async def by_remote_id(session: AsyncSession, id_instance: int, remote_id: str) -> Message | None:
    """The outgoing message the messenger knows as ``remote_id``."""
    row = (
        await session.execute(
            select(*_COLUMNS).where(M.id_instance == id_instance, M.remote_id == remote_id)
        )
    ).first()
    return _message(row) if row else None


async def remote_ids(session: AsyncSession, id_instance: int, ids: list[str]) -> dict[str, str]:
    """The messenger's own ids of those of ``ids`` that have one."""
    rows = await session.execute(
        select(M.id_message, M.remote_id).where(
            M.id_instance == id_instance, M.id_message.in_(ids), M.remote_id.is_not(None)
        )
    )
    return {id_message: str(remote) for id_message, remote in rows}


async def unread_from(
    session: AsyncSession, id_instance: int, chat_id: str, id_message: str | None
) -> list[str]:
    """Ids of unread incoming messages of a chat (all, or only ``id_message``)."""
    stmt = select(M.id_message).where(
        M.id_instance == id_instance,
        M.direction == Direction.IN,
        M.chat_id == chat_id,
        M.status == MessageStatus.UNREAD,
    )
    if id_message is not None:
        stmt = stmt.where(M.id_message == id_message)
    return list(await session.scalars(stmt))


async def mark_read(session: AsyncSession, id_instance: int, id_messages: list[str]) -> None:
    await session.execute(
        update(M)
        .where(
            M.id_instance == id_instance,
            M.direction == Direction.IN,
            M.id_message.in_(id_messages),
        )
        .values(status=MessageStatus.READ)
    )


async def journal(
    session: AsyncSession,
    id_instance: int,
    *,
    direction: str | None = None,
    since_ms: int | None = None,
    chat_id: str | None = None,
    limit: int,
) -> list[Message]:
    """Sent (not queued) and received messages, newest first."""
    stmt = select(*_COLUMNS).where(M.id_instance == id_instance, M.queued.is_(False))
    if direction is not None:
        stmt = stmt.where(M.direction == direction)
    if since_ms is not None:
        stmt = stmt.where(M.at_ms >= since_ms)
    if chat_id is not None:
        stmt = stmt.where(M.chat_id == chat_id)
    # By when it happened: a message that waited in the send queue counts from its sending.
    rows = await session.execute(stmt.order_by(M.at_ms.desc(), M.id.desc()).limit(limit))
    return [_message(r) for r in rows]


async def chats(session: AsyncSession, id_instance: int, *, limit: int) -> list[tuple[str, str]]:
    """(chat id, best known name) of every chat the instance has messages in."""
    rows = await session.execute(
        select(M.chat_id, func.max(M.sender_name))
        .where(M.id_instance == id_instance, M.queued.is_(False))
        .group_by(M.chat_id)
        .limit(limit)
    )
    return [(r[0], r[1] or "") for r in rows]


async def attach_media(
    session: AsyncSession, message_id: int, *, media_key: str, data: str, type_message: str
) -> None:
    """A queued message's file is stored now: its key, and its data naming it."""
    await session.execute(
        update(M)
        .where(M.id == message_id)
        .values(media_key=media_key, data=data, type_message=type_message)
    )


async def set_data(session: AsyncSession, message_id: int, data: str) -> None:
    """Replace a message's data (an edit or a deletion shown in the journals)."""
    await session.execute(update(M).where(M.id == message_id).values(data=data))
