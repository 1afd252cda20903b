"""The authentication cache: served from memory, dropped by every write, in every process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import event, update

from fleetgate.context import Context
from fleetgate.domain.config import DELAY_DEFAULT_MS, ConfigPatch
from fleetgate.services import account, instances, states
from fleetgate.services.instance_cache import InstanceCache
from fleetgate.settings import Settings
from fleetgate.storage.signals import RESYNC_CHANNEL
from fleetgate.storage.tables import InstanceRow
from tests.factories import create_instances, new_partner
from tests.support import make_settings

# Far longer than any test: whatever the cache shows fresh, a signal made it so.
FOREVER_S = 3600.0


def cached_settings(folder: Path, url: str) -> Settings:
    return make_settings(folder, url, instances={"auth_cache_s": FOREVER_S})


@pytest.fixture
async def ctx(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
    context = Context.from_settings(cached_settings(tmp_path, fresh_database_url))
    await context.db.migrate()
    await context.signals.start()
    yield context
    await context.signals.stop()
    await context.db.dispose()


async def set_delay(ctx: Context, id_instance: int, delay_ms: int) -> None:
    async with ctx.db.transaction() as session:
        await account.update_settings(
            session=session,
            signals=ctx.signals,
            cipher=ctx.cipher,
            id_instance=id_instance,
            patch=ConfigPatch(delay_send_ms=delay_ms),
        )


async def cached_delay(cache: InstanceCache, id_instance: int) -> int:
    found = await cache.live(id_instance)
    assert found is not None
    return found[0].delay_send_ms


async def test_a_write_is_seen_at_once_and_reads_are_served_from_memory(ctx: Context) -> None:
    [made] = await create_instances(ctx, 1)
    cache = ctx.instance_cache
    assert await cached_delay(cache, made) == DELAY_DEFAULT_MS
    await set_delay(ctx, made, 700)
    assert await cached_delay(cache, made) == 700
    # Served from memory: a thousand look-ups send no statement to the database.
    statements: list[str] = []

    def record(_conn: object, _cursor: object, sql: str, *_rest: object) -> None:
        statements.append(sql)

    event.listen(ctx.db.engine.sync_engine, "before_cursor_execute", record)
    try:
        for _ in range(1000):
            assert await cached_delay(cache, made) == 700
    finally:
        event.remove(ctx.db.engine.sync_engine, "before_cursor_execute", record)
    assert statements == []


async def test_state_token_and_deletion_drop_the_entry(ctx: Context) -> None:
    partner = await new_partner(ctx)
    [made] = await create_instances(ctx, 1, partner=partner)
    cache = ctx.instance_cache
    first = await cache.live(made)
    assert first is not None and first[0].state == "starting"
    async with ctx.db.transaction() as session:
        await states.record_state(
            session=session,
            signals=ctx.signals,
            id_instance=made,
            state="authorized",
            wid="79990000001@c.us",
        )
    again = await cache.live(made)
    assert again is not None and again[0].state == "authorized"
    async with ctx.db.transaction() as session:
        token = await account.rotate_token(
            session=session, signals=ctx.signals, cipher=ctx.cipher, id_instance=made
        )
    rotated = await cache.live(made)
    assert rotated is not None and rotated[1] == ctx.cipher.digest(token)
    async with ctx.db.transaction() as session:
        await instances.delete_instance(
            session=session, signals=ctx.signals, partner=partner, id_instance=made
        )
    assert await cache.live(made) is None


async def test_a_read_racing_a_write_never_leaves_a_stale_entry(ctx: Context) -> None:
    [made] = await create_instances(ctx, 1)
    cache = ctx.instance_cache
    for delay in range(1000, 1060):
        # Cold look-ups start reading before the write commits and store after it.
        ctx.signals.dispatch(RESYNC_CHANNEL, "")
        readers = [asyncio.create_task(cache.live(made)) for _ in range(3)]
        await set_delay(ctx, made, delay)
        await asyncio.gather(*readers)
        # The writing process hears its own signal at commit, on PostgreSQL too.
        assert await cached_delay(cache, made) == delay


async def until_delay(cache: InstanceCache, id_instance: int, delay: int) -> None:
    deadline = time.monotonic() + 5
    while await cached_delay(cache, id_instance) != delay:
        assert time.monotonic() < deadline, f"the cache never showed delay {delay}"
        await asyncio.sleep(0.005)


async def test_another_process_write_reaches_the_cache(ctx: Context, tmp_path: Path) -> None:
    if ctx.db.is_sqlite:
        pytest.skip("SQLite runs one process; signals do not leave it")
    [made] = await create_instances(ctx, 1)
    other = Context.from_settings(cached_settings(tmp_path / "other", str(ctx.db.url)))
    await other.signals.start()
    try:
        assert await cached_delay(other.instance_cache, made) == DELAY_DEFAULT_MS
        await set_delay(ctx, made, 900)
        await until_delay(other.instance_cache, made, 900)
    finally:
        await other.signals.stop()
        await other.db.dispose()


async def test_a_listen_reconnect_drops_everything(ctx: Context) -> None:
    [made] = await create_instances(ctx, 1)
    cache = ctx.instance_cache
    assert await cached_delay(cache, made) == DELAY_DEFAULT_MS
    # A write whose signal is lost: only the re-sync on reconnect can reveal it.
    async with ctx.db.transaction() as session:
        await session.execute(
            update(InstanceRow).where(InstanceRow.id_instance == made).values(delay_send_ms=1234)
        )
    assert await cached_delay(cache, made) == DELAY_DEFAULT_MS
    ctx.signals.dispatch(RESYNC_CHANNEL, "")
    assert await cached_delay(cache, made) == 1234
