"""The chat list with what the Z-API façade shows of each chat: last message, unread count,
and the marks set on it (archived, pinned, muted, unread, cleared, deleted, blocked)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.chats import ChatOverview
from fleetgate.domain.messages import Direction, MessageStatus
from fleetgate.storage.tables import ChatRow, ContactRow, MessageRow

M = MessageRow
C = ChatRow


def _overview() -> Select[str, str, int, Any, bool, bool, int | None, bool, int]:
    cleared = func.coalesce(C.cleared_ms, 0)
    unread = func.sum(
        case(
            (
                and_(
                    M.direction == Direction.IN,
                    M.status == MessageStatus.UNREAD,
                    M.at_ms > cleared,
                ),
                1,
            ),
            else_=0,
        )
    )
    return (
        select(
            M.chat_id,
            func.max(M.sender_name),
            func.max(M.at_ms),
            unread,
            func.coalesce(C.archived, False),
            func.coalesce(C.pinned, False),
            C.mute_until_ms,
            func.coalesce(C.unread_mark, False),
            func.coalesce(C.ephemeral_expiration, 0),
        )
        .outerjoin(C, and_(C.id_instance == M.id_instance, C.chat_id == M.chat_id))
        .group_by(
            M.chat_id,
            C.archived,
            C.pinned,
            C.mute_until_ms,
            C.unread_mark,
            C.ephemeral_expiration,
            C.cleared_ms,
            C.deleted,
        )
        # A deleted chat is left out until a message newer than its deletion comes.
        .having(or_(func.coalesce(C.deleted, False).is_(False), func.max(M.at_ms) > cleared))
    )


async def overview(
    session: AsyncSession,
    id_instance: int,
    *,
    offset: int,
    limit: int,
    groups: bool | None = None,
    chat_ids: Sequence[str] | None = None,
) -> list[ChatOverview]:
    """The chats with messages, pinned first, then most recently active first: all, only
    groups (``groups``) or only persons, or only ``chat_ids``."""
    stmt = _overview().where(M.id_instance == id_instance, M.queued.is_(False))
    if groups is not None:
        is_group = M.chat_id.like("%@g.us")
        stmt = stmt.where(is_group if groups else ~is_group)
    if chat_ids is not None:
        stmt = stmt.where(M.chat_id.in_(list(chat_ids)))
    pinned = func.coalesce(C.pinned, False)
    stmt = stmt.order_by(pinned.desc(), func.max(M.at_ms).desc(), M.chat_id)
    rows = await session.execute(stmt.offset(offset).limit(limit))
    return [
        ChatOverview(
            chat_id=r[0],
            name=r[1] or "",
            last_ms=int(r[2] or 0),
            unread=int(r[3] or 0),
            archived=bool(r[4]),
            pinned=bool(r[5]),
            mute_until_ms=r[6],
            unread_mark=bool(r[7]),
            ephemeral_expiration=int(r[8] or 0),
        )
        for r in rows
    ]


async def marks(session: AsyncSession, id_instance: int, chat_id: str) -> ChatRow | None:
    """The chat's row of marks, if anything was ever set on it."""
    return await session.get(C, (id_instance, chat_id))


async def unread_ids(session: AsyncSession, id_instance: int, chat_id: str) -> list[str]:
    """Ids of the chat's unread incoming messages."""
    stmt = select(M.id_message).where(
        M.id_instance == id_instance,
        M.chat_id == chat_id,
        M.direction == Direction.IN,
        M.status == MessageStatus.UNREAD,
    )
    return list(await session.scalars(stmt))


async def address_book(session: AsyncSession, id_instance: int) -> dict[str, str]:
    """chat id -> the contact's fields (JSON) of the instance's address book."""
    rows = await session.execute(
        select(ContactRow.chat_id, ContactRow.data).where(ContactRow.id_instance == id_instance)
    )
    return {r[0]: r[1] for r in rows}
