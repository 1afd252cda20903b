"""Runner rows and instance ownership: one runner owns an instance while it heartbeats."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.tables import InstanceRow, RunnerRow


@dataclass(frozen=True, slots=True)
class Owned:
    """What a runner needs to run one instance's session."""

    id_instance: int
    runner_id: str | None
    live: bool
    engine: str
    engine_auth: str | None
    session_epoch: int
    logout_epoch: int


_OWNED_COLUMNS = (
    InstanceRow.id_instance,
    InstanceRow.runner_id,
    InstanceRow.deleted_ms,
    InstanceRow.expires_ms,
    InstanceRow.engine,
    InstanceRow.engine_auth,
    InstanceRow.session_epoch,
    InstanceRow.logout_epoch,
)


def _live(now: int) -> ColumnElement[bool]:
    return and_(
        InstanceRow.deleted_ms.is_(None),
        or_(InstanceRow.expires_ms.is_(None), InstanceRow.expires_ms > now),
    )


async def register(session: AsyncSession, runner_id: str, *, now: int) -> None:
    session.add(RunnerRow(id=runner_id, started_ms=now, heartbeat_ms=now))
    await session.flush()


async def heartbeat(session: AsyncSession, runner_id: str, *, now: int) -> bool:
    """Renew the runner's lease; False if its row is gone (it was declared dead)."""
    result = await session.execute(
        update(RunnerRow).where(RunnerRow.id == runner_id).values(heartbeat_ms=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def instances_of(
    session: AsyncSession, *, runner_id: str, now: int, ids: list[int] | None = None
) -> list[Owned]:
    """Instances owned by the runner (or, with ``ids``, those instances whoever owns them)."""
    stmt = select(*_OWNED_COLUMNS)
    if ids is None:
        stmt = stmt.where(InstanceRow.runner_id == runner_id)
    else:
        stmt = stmt.where(InstanceRow.id_instance.in_(ids))
    rows = await session.execute(stmt)
    return [
        Owned(
            id_instance=r.id_instance,
            runner_id=r.runner_id,
            live=r.deleted_ms is None and (r.expires_ms is None or r.expires_ms > now),
            engine=r.engine,
            engine_auth=r.engine_auth,
            session_epoch=r.session_epoch,
            logout_epoch=r.logout_epoch,
        )
        for r in rows
    ]


async def dead_runners(session: AsyncSession, *, cutoff: int) -> list[str]:
    """Runners whose last heartbeat is older than ``cutoff``."""
    return list(await session.scalars(select(RunnerRow.id).where(RunnerRow.heartbeat_ms < cutoff)))


async def claim(
    session: AsyncSession,
    *,
    runner_id: str,
    dead: list[str],
    now: int,
    limit: int,
    ids: list[int] | None = None,
) -> list[int]:
    """Take live instances that have no owner or a dead one; the ids actually taken.

    The UPDATE re-checks the owner, so of two runners racing for an instance only one wins.
    """
    orphan = or_(InstanceRow.runner_id.is_(None), InstanceRow.runner_id.in_(dead))
    pick = select(InstanceRow.id_instance).where(_live(now), orphan).limit(limit)
    if ids is not None:
        pick = pick.where(InstanceRow.id_instance.in_(ids))
    candidates = list(await session.scalars(pick))
    if not candidates:
        return []
    result = await session.execute(
        update(InstanceRow)
        .where(InstanceRow.id_instance.in_(candidates), orphan)
        .values(runner_id=runner_id)
        .returning(InstanceRow.id_instance)
    )
    return list(result.scalars())


async def release(session: AsyncSession, *, runner_id: str, ids: list[int] | None = None) -> None:
    """Give up ownership of some (or all) of the runner's instances."""
    stmt = update(InstanceRow).where(InstanceRow.runner_id == runner_id).values(runner_id=None)
    if ids is not None:
        stmt = stmt.where(InstanceRow.id_instance.in_(ids))
    await session.execute(stmt)


async def unregister(session: AsyncSession, runner_id: str) -> None:
    await session.execute(delete(RunnerRow).where(RunnerRow.id == runner_id))


async def forget_all(session: AsyncSession) -> None:
    """Release every instance and forget every runner (when no other runner can exist)."""
    await session.execute(update(InstanceRow).values(runner_id=None))
    await session.execute(delete(RunnerRow))


async def forget_dead(session: AsyncSession, *, cutoff: int) -> None:
    """Delete rows of dead runners that no longer own anything."""
    owns = exists().where(InstanceRow.runner_id == RunnerRow.id)
    await session.execute(delete(RunnerRow).where(RunnerRow.heartbeat_ms < cutoff, ~owns))
