"""Rate-limit counters: hits per instance, method and window, counted by one atomic upsert."""

from __future__ import annotations

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.tables import RateHitRow


async def count_hit(session: AsyncSession, *, id_instance: int, method: str, window: int) -> int:
    """Add one hit to the window's counter (creating it at 1); the count after this hit.

    ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` is one atomic statement: concurrent
    requests on any number of processes each see a different count, and none is lost.
    """
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    insert = dialect.insert(RateHitRow).values(
        id_instance=id_instance, method=method, window=window, hits=1
    )
    stmt = insert.on_conflict_do_update(
        index_elements=[RateHitRow.id_instance, RateHitRow.method, RateHitRow.window],
        set_={"hits": RateHitRow.hits + 1},
    ).returning(RateHitRow.hits)
    hits: int = (await session.execute(stmt)).scalar_one()
    return hits


async def delete_before(session: AsyncSession, *, window: int) -> int:
    """Delete counters of windows that started before ``window``; how many went."""
    result = await session.execute(delete(RateHitRow).where(RateHitRow.window < window))
    return int(result.rowcount)  # type: ignore[attr-defined]
