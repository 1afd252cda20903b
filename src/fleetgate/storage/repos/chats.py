"""Chat rows (archive flag, disappearing timer) and call rows (the call journals)."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.chats import Call, ChatInfo
from fleetgate.storage.tables import CallRow, ChatRow, MessageRow

M = MessageRow


async def chat_row(session: AsyncSession, id_instance: int, chat_id: str) -> ChatRow:
    """The instance's row for ``chat_id``, added (defaults) if it had none; two requests
    adding it at once both get the one row (the primary key decides, the loser's INSERT does
    nothing)."""
    insert = sqlite_insert if session.get_bind().dialect.name == "sqlite" else pg_insert
    await session.execute(
        insert(ChatRow)
        .values(id_instance=id_instance, chat_id=chat_id)
        .on_conflict_do_nothing(index_elements=["id_instance", "chat_id"])
    )
    row = await session.get(ChatRow, (id_instance, chat_id), populate_existing=True)
    assert row is not None
    return row


async def is_archived(session: AsyncSession, id_instance: int, chat_id: str) -> bool:
    row = await session.get(ChatRow, (id_instance, chat_id))
    return row is not None and row.archived


async def has_messages(session: AsyncSession, id_instance: int, chat_id: str) -> bool:
    stmt = select(M.id).where(
        M.id_instance == id_instance, M.chat_id == chat_id, M.queued.is_(False)
    )
    return await session.scalar(stmt.limit(1)) is not None


async def chats(session: AsyncSession, id_instance: int, *, limit: int) -> list[ChatInfo]:
    """The chats with messages (sent or received), most recently active first."""
    last = func.max(M.at_ms).label("last")
    rows = await session.execute(
        select(M.chat_id, func.max(M.sender_name), last)
        .where(M.id_instance == id_instance, M.queued.is_(False))
        .group_by(M.chat_id)
        .order_by(last.desc(), M.chat_id)
        .limit(limit)
    )
    found = [(r[0], r[1] or "") for r in rows]
    states = {
        r.chat_id: r
        for r in await session.scalars(
            select(ChatRow).where(
                ChatRow.id_instance == id_instance,
                ChatRow.chat_id.in_([chat_id for chat_id, _ in found]),
            )
        )
    }
    out = []
    for chat_id, name in found:
        state = states.get(chat_id)
        out.append(
            ChatInfo(
                chat_id=chat_id,
                name=name,
                archived=bool(state and state.archived),
                ephemeral_expiration=state.ephemeral_expiration if state else 0,
                ephemeral_ms=state.ephemeral_ms if state else 0,
            )
        )
    return out


async def chat_info(session: AsyncSession, id_instance: int, chat_id: str) -> ChatInfo:
    state = await session.get(ChatRow, (id_instance, chat_id))
    return ChatInfo(
        chat_id=chat_id,
        name="",
        archived=bool(state and state.archived),
        ephemeral_expiration=state.ephemeral_expiration if state else 0,
        ephemeral_ms=state.ephemeral_ms if state else 0,
    )


_CALL_COLUMNS = (
    CallRow.id_call,
    CallRow.direction,
    CallRow.chat_id,
    CallRow.is_video,
    CallRow.status,
    CallRow.started_ms,
    CallRow.at_ms,
    CallRow.duration_s,
)


async def record_call(
    session: AsyncSession,
    id_instance: int,
    *,
    id_call: str,
    direction: str,
    chat_id: str,
    is_video: bool,
    status: str,
    at_ms: int,
) -> bool:
    """Add a call or move it to ``status``; False if it had that status already."""
    row = await session.scalar(
        select(CallRow).where(CallRow.id_instance == id_instance, CallRow.id_call == id_call)
    )
    if row is None:
        session.add(
            CallRow(
                id_instance=id_instance,
                id_call=id_call,
                direction=direction,
                chat_id=chat_id,
                is_video=is_video,
                status=status,
                started_ms=at_ms,
                at_ms=at_ms,
                duration_s=0,
            )
        )
        await session.flush()
        return True
    if row.status == status:
        return False
    answered = row.status == "pickUp"
    await session.execute(
        update(CallRow)
        .where(CallRow.id == row.id)
        .values(
            status=status,
            at_ms=at_ms,
            duration_s=max(0, (at_ms - row.at_ms) // 1000) if answered else row.duration_s,
        )
    )
    return True


async def calls(
    session: AsyncSession, id_instance: int, *, direction: str, since_ms: int, limit: int
) -> list[Call]:
    """Calls of one direction that changed since ``since_ms``, newest first."""
    rows = await session.execute(
        select(*_CALL_COLUMNS)
        .where(
            CallRow.id_instance == id_instance,
            CallRow.direction == direction,
            CallRow.at_ms >= since_ms,
        )
        .order_by(CallRow.at_ms.desc(), CallRow.id.desc())
        .limit(limit)
    )
    return [Call(*r) for r in rows]
