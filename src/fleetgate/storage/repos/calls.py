"""Engine call rows: requests from API processes to the runner owning an instance."""

from __future__ import annotations

from sqlalchemy import delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.tables import EngineCallRow


async def insert(
    session: AsyncSession, *, id_instance: int, method: str, args: str, now: int
) -> int:
    row = EngineCallRow(id_instance=id_instance, method=method, args=args, created_ms=now)
    session.add(row)
    await session.flush()
    return row.id


async def result_of(session: AsyncSession, call_id: int) -> str | None:
    return await session.scalar(select(EngineCallRow.result).where(EngineCallRow.id == call_id))


async def remove(session: AsyncSession, call_id: int) -> None:
    await session.execute(delete(EngineCallRow).where(EngineCallRow.id == call_id))


async def pending_for(
    session: AsyncSession, ids: list[int], *, newer_than: int
) -> list[tuple[int, int, str, str]]:
    """Unanswered calls (id, id_instance, method, args) for these instances, oldest first."""
    rows = await session.execute(
        select(
            EngineCallRow.id, EngineCallRow.id_instance, EngineCallRow.method, EngineCallRow.args
        )
        .where(
            EngineCallRow.id_instance.in_(ids),
            EngineCallRow.result.is_(None),
            EngineCallRow.created_ms > newer_than,
        )
        .order_by(EngineCallRow.id)
    )
    return [(r.id, r.id_instance, r.method, r.args) for r in rows]


async def answer(session: AsyncSession, call_id: int, result: str) -> None:
    await session.execute(
        update(EngineCallRow).where(EngineCallRow.id == call_id).values(result=result)
    )


async def purge_older_than(session: AsyncSession, cutoff: int) -> None:
    await session.execute(delete(EngineCallRow).where(EngineCallRow.created_ms < cutoff))
