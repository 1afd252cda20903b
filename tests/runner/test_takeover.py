"""Several runners on one database: one owner per instance, hand-over on a clean stop.

Take-over after a crash (SIGKILL) is tested with real processes in test_takeover_processes.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from fleetgate.context import Context
from fleetgate.domain.instances import State
from fleetgate.domain.partners import Partner
from fleetgate.runner.runner import Runner, RunnerConfig
from fleetgate.services import instances as instances_service
from fleetgate.storage.tables import InstanceRow, PartnerRow, RunnerRow
from tests.factories import create_instances, running_context
from tests.support import make_settings

# Fast passes, but a lease far longer than any pass on a loaded machine: these tests are about
# who owns what while both runners live, so a lease that ran out between two passes would move
# instances for a reason the test does not mean (expiry is test_takeover_processes.py's).
FAST = RunnerConfig(tick_s=0.1, lease_ttl_s=30.0)


@pytest.fixture
async def ctx(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
    async with running_context(make_settings(tmp_path / "data", fresh_database_url)) as context:
        yield context


async def _instances(ctx: Context, count: int) -> list[int]:
    return await create_instances(ctx, count)


async def _owners(ctx: Context) -> dict[int, str | None]:
    async with ctx.db.reading() as session:
        rows = await session.execute(select(InstanceRow.id_instance, InstanceRow.runner_id))
        return {r.id_instance: r.runner_id for r in rows}


async def _states(ctx: Context) -> dict[int, str]:
    async with ctx.db.reading() as session:
        rows = await session.execute(select(InstanceRow.id_instance, InstanceRow.state))
        return {r.id_instance: r.state for r in rows}


async def _eventually(check: object, timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        if await check():  # type: ignore[operator]
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.05)


async def _heartbeats(ctx: Context, names: list[str]) -> dict[str, int]:
    async with ctx.db.reading() as session:
        rows = await session.execute(
            select(RunnerRow.id, RunnerRow.heartbeat_ms).where(RunnerRow.id.in_(names))
        )
        return {r.id: r.heartbeat_ms for r in rows}


async def _full_passes(ctx: Context, names: list[str], count: int) -> None:
    """Wait until each runner has begun ``count`` more ticks, so has finished ``count - 1``.

    A tick writes the heartbeat first, then makes its pass: the second new heartbeat shows
    that a whole pass ran after the moment this was called.
    """
    for _ in range(count):
        before = await _heartbeats(ctx, names)

        async def all_beat(before: dict[str, int] = before) -> bool:
            now = await _heartbeats(ctx, names)
            return all(now[n] > before[n] for n in names)

        await _eventually(all_beat)


def _runner(ctx: Context, name: str) -> Runner:
    return Runner(
        db=ctx.db,
        signals=ctx.signals,
        engines=ctx.engines,
        media=ctx.media,
        config=FAST,
        runner_id=name,
    )


async def test_each_instance_has_exactly_one_running_owner(ctx: Context) -> None:
    a, b = _runner(ctx, "a"), _runner(ctx, "b")
    await asyncio.gather(a.start(), b.start())
    try:
        ids = await _instances(ctx, 20)

        async def all_owned() -> bool:
            owners = await _owners(ctx)
            return all(owners[i] in ("a", "b") for i in ids)

        async def all_started() -> bool:  # every session started and reported its state
            return (await _states(ctx)) == dict.fromkeys(ids, State.NOT_AUTHORIZED)

        await _eventually(all_owned)
        await _eventually(all_started)
        await _full_passes(ctx, ["a", "b"], 2)  # ownership must stay put across them
        owners = await _owners(ctx)
        assert set(a.held) == {i for i in ids if owners[i] == "a"}
        assert set(b.held) == {i for i in ids if owners[i] == "b"}
        assert not set(a.held) & set(b.held)
        assert (await _states(ctx)) == dict.fromkeys(ids, State.NOT_AUTHORIZED)
    finally:
        await asyncio.gather(a.stop(), b.stop())


async def test_a_stopped_runner_hands_over_at_once(ctx: Context) -> None:
    a = _runner(ctx, "a")
    await a.start()
    ids = await _instances(ctx, 5)
    await _eventually(lambda: _all(ctx, ids, "a"))
    b = Runner(
        db=ctx.db,
        signals=ctx.signals,
        engines=ctx.engines,
        media=ctx.media,
        config=RunnerConfig(tick_s=0.1, lease_ttl_s=60.0),
        runner_id="b",
    )
    await b.start()
    try:
        await a.stop()
        # b's lease is 60 s, so only the release by a explains a take-over well before it.
        await _eventually(lambda: _all(ctx, ids, "b"), timeout=20)
        assert set(b.held) == set(ids)
    finally:
        await b.stop()


async def _all(ctx: Context, ids: list[int], owner: str) -> bool:
    owners = await _owners(ctx)
    return all(owners[i] == owner for i in ids)


async def _owned_by(ctx: Context, id_instance: int, owner: str | None) -> bool:
    return (await _owners(ctx))[id_instance] == owner


async def _has_state(ctx: Context, id_instance: int, state: str) -> bool:
    return (await _states(ctx))[id_instance] == state


async def test_a_deleted_instance_stops_running_at_once(ctx: Context) -> None:
    runner = _runner(ctx, "solo")
    await runner.start()
    try:
        (gone, kept) = await _instances(ctx, 2)
        await _eventually(lambda: _all(ctx, [gone, kept], "solo"))
        await _eventually(lambda: _running(runner, [gone, kept]))
        async with ctx.db.transaction() as session:
            row = await session.get(InstanceRow, gone)
            assert row is not None
            partner_row = await session.get(PartnerRow, row.partner_id)
            assert partner_row is not None
            partner = Partner(partner_row.id, partner_row.name, partner_row.created_ms, None)
            await instances_service.delete_instance(
                session=session, signals=ctx.signals, partner=partner, id_instance=gone
            )
        await _eventually(lambda: _not_running(runner, gone), timeout=10)
        assert kept in runner.held
        # The runner stops the session, then releases the row in a transaction of its own.
        await _eventually(lambda: _owned_by(ctx, gone, None), timeout=10)
    finally:
        await runner.stop()


async def _running(runner: Runner, ids: list[int]) -> bool:
    return all(i in runner.held for i in ids)


async def _not_running(runner: Runner, id_instance: int) -> bool:
    return id_instance not in runner.held
