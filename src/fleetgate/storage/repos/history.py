"""State history rows."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.instances import State, StateChange
from fleetgate.storage.tables import StateHistoryRow


async def append(
    session: AsyncSession, *, id_instance: int, state: State, wid: str, now: int
) -> None:
    session.add(StateHistoryRow(id_instance=id_instance, state=state, wid=wid, at_ms=now))
    await session.flush()


async def newest(session: AsyncSession, *, id_instance: int, count: int) -> list[StateChange]:
    rows = await session.execute(
        select(StateHistoryRow.state, StateHistoryRow.wid, StateHistoryRow.at_ms)
        .where(StateHistoryRow.id_instance == id_instance)
        .order_by(StateHistoryRow.id.desc())
        .limit(count)
    )
    return [StateChange(state=State(r.state), wid=r.wid, at_ms=r.at_ms) for r in rows]
