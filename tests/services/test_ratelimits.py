"""Rate limits: the table, windows, counting in memory and in the database, the cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fleetgate.errors import RateLimited
from fleetgate.services.ratelimits import (
    DEFAULT_RATE,
    RATES,
    DatabaseHits,
    MemoryHits,
    RateLimiter,
    RatePolicy,
    Window,
    rate_limiter_for,
    window_of,
)
from fleetgate.settings import RateLimitSettings
from fleetgate.storage.db import Database
from fleetgate.storage.repos import ratelimits as repo
from fleetgate.storage.tables import RateHitRow
from tests.support import fresh_database, sqlite_url

# 2023-11-14T22:13:20.300Z: 300 ms into a second and into a ten-second window.
T0 = 1_700_000_000_300


class Clock:
    """A settable clock in epoch milliseconds."""

    def __init__(self, ms: int = T0) -> None:
        self.ms = ms

    def __call__(self) -> int:
        return self.ms


class RecordingHits(MemoryHits):
    """Counts in memory and records every sweep."""

    def __init__(self) -> None:
        super().__init__()
        self.sweeps: list[int] = []

    async def sweep(self, *, before: int) -> None:
        self.sweeps.append(before)
        await super().sweep(before=before)


def memory_limiter(clock: Clock, overrides: dict[str, float] | None = None) -> RateLimiter:
    return RateLimiter(policy=RatePolicy(overrides=overrides), hits=MemoryHits(), clock=clock)


async def refused(limiter: RateLimiter, method: str, id_instance: int = 1) -> int | None:
    """The Retry-After of a refused request, or None if it was let through."""
    try:
        await limiter.check(id_instance=id_instance, method=method)
    except RateLimited as exc:
        return exc.retry_after_s
    return None


def test_the_table_holds_the_published_rates() -> None:
    published = {
        "getSettings": 1,
        "setSettings": 1,
        "getStateInstance": 1,
        "getWaSettings": 1,
        "reboot": 1,
        "logout": 1,
        "getChatHistory": 1,
        "showMessagesQueue": 1,
        "clearMessagesQueue": 1,
        "qr": 3,
        "downloadFile": 5,
        "readChat": 10,
        "checkWhatsapp": 10,
        "getAvatar": 10,
        "getMessage": 10,
        "sendMessage": 50,
        "sendFileByUrl": 50,
        "sendLocation": 50,
        "sendContact": 50,
        "sendPoll": 50,
        "forwardMessages": 50,
        "receiveNotification": 100,
        "deleteNotification": 100,
        "setProfilePicture": 0.1,
    }
    assert {name: RATES[name] for name in published} == published
    chosen = (
        "getStateInstanceHistory getAuthorizationCode updateApiToken getMessagesCount "
        "getWebhooksCount clearWebhooksQueue lastIncomingMessages lastOutgoingMessages "
        "getContacts getContactInfo"
    )
    assert {RATES[name] for name in chosen.split()} == {1.0}
    assert DEFAULT_RATE == 1.0
    # Keys are distinct even ignoring case, so case-insensitive lookups are unambiguous.
    assert len({name.lower() for name in RATES}) == len(RATES)


@pytest.mark.parametrize(
    ("rate", "window"),
    [
        (1, Window(1, 1)),
        (3, Window(1, 3)),
        (100, Window(1, 100)),
        (2.5, Window(1, 2)),
        (0.1 * 10, Window(1, 1)),
        (0.5, Window(2, 1)),
        (0.1, Window(10, 1)),
        (0.3, Window(4, 1)),
        (0, None),
    ],
)
def test_window_of_a_rate(rate: float, window: Window | None) -> None:
    assert window_of(rate) == window


def test_scale_multiplies_the_table_and_overrides_are_taken_as_given() -> None:
    policy = RatePolicy(scale=2, overrides={"SENDMESSAGE": 5, "getsettings": 0})
    assert policy.window_for("setSettings") == Window(1, 2)
    assert policy.window_for("setProfilePicture") == Window(5, 1)
    assert policy.window_for("sendMessage") == Window(1, 5)
    assert policy.window_for("getSettings") is None
    assert policy.window_for("noSuchMethod") == Window(1, 2)
    assert RatePolicy(scale=0.5).window_for("noSuchMethod") == Window(2, 1)


def test_the_longest_window_bounds_the_cleanup() -> None:
    assert RatePolicy().longest_s == 10
    assert RatePolicy(overrides={"setProfilePicture": 0.01}).longest_s == 100
    assert RatePolicy(overrides={"setProfilePicture": 0}).longest_s == 1


async def test_a_second_request_in_the_same_second_is_refused_until_the_next() -> None:
    clock = Clock()
    limiter = memory_limiter(clock)
    assert await refused(limiter, "getSettings") is None
    assert await refused(limiter, "getSettings") == 1
    clock.ms = T0 + 699
    assert await refused(limiter, "getSettings") == 1
    clock.ms = T0 + 700  # the next second
    assert await refused(limiter, "getSettings") is None


async def test_allowance_per_second() -> None:
    limiter = memory_limiter(Clock())
    assert [await refused(limiter, "qr") for _ in range(4)] == [None, None, None, 1]


async def test_a_slow_rate_counts_a_longer_window_and_retry_after_runs_to_its_end() -> None:
    clock = Clock()
    limiter = memory_limiter(clock)
    assert await refused(limiter, "setProfilePicture") is None
    clock.ms = T0 + 700  # 1 s into the 10 s window
    assert await refused(limiter, "setProfilePicture") == 9
    clock.ms = T0 + 9_699
    assert await refused(limiter, "setProfilePicture") == 1
    clock.ms = T0 + 9_700
    assert await refused(limiter, "setProfilePicture") is None


async def test_counts_are_per_instance_and_per_method() -> None:
    limiter = memory_limiter(Clock())
    assert await refused(limiter, "getSettings", 1) is None
    assert await refused(limiter, "getSettings", 1) == 1
    assert await refused(limiter, "getStateInstance", 1) is None
    assert await refused(limiter, "getSettings", 2) is None


async def test_unlimited_methods_are_never_counted() -> None:
    limiter = memory_limiter(Clock(), overrides={"getSettings": 0})
    for _ in range(20):
        assert await refused(limiter, "getSettings") is None


async def test_old_windows_are_swept_now_and_then() -> None:
    clock = Clock()
    hits = RecordingHits()
    limiter = RateLimiter(policy=RatePolicy(), hits=hits, clock=clock)
    await limiter.check(id_instance=1, method="getSettings")
    await limiter.check(id_instance=2, method="getSettings")
    # On the first request, then not again for at least 5 s (10 s, jittered by half).
    assert hits.sweeps == [T0 // 1000 - 10 - 5]
    clock.ms = T0 + 4_999
    await limiter.check(id_instance=1, method="getSettings")
    assert len(hits.sweeps) == 1
    clock.ms = T0 + 30_000
    await limiter.check(id_instance=1, method="getSettings")
    assert hits.sweeps[1] == T0 // 1000 + 30 - 15
    # The memory counter keeps one entry per pair and drops the ended ones.
    assert len(hits) == 1


async def test_memory_hits_start_over_in_a_new_window() -> None:
    hits = MemoryHits()
    assert [await hits.hit(id_instance=1, method="m", window=w) for w in (5, 5, 5, 6)] == [
        1,
        2,
        3,
        1,
    ]
    await hits.sweep(before=6)
    assert len(hits) == 1
    await hits.sweep(before=7)
    assert len(hits) == 0


async def test_settings_choose_the_counter(tmp_path: Path) -> None:
    sqlite = Database(sqlite_url(tmp_path))
    postgres = Database("postgresql+asyncpg://nobody@127.0.0.1:1/none")
    try:
        assert rate_limiter_for(db=sqlite, settings=RateLimitSettings(enabled=False)) is None
        on_sqlite = rate_limiter_for(db=sqlite, settings=RateLimitSettings(scale=2))
        assert on_sqlite is not None and isinstance(on_sqlite.hits, MemoryHits)
        assert on_sqlite.policy.window_for("getSettings") == Window(1, 2)
        on_postgres = rate_limiter_for(db=postgres, settings=RateLimitSettings())
        assert on_postgres is not None and isinstance(on_postgres.hits, DatabaseHits)
    finally:
        await sqlite.dispose()
        await postgres.dispose()


@pytest.fixture
async def db(fresh_database_url: str) -> AsyncIterator[Database]:
    database = Database(fresh_database_url)
    await database.migrate()
    yield database
    await database.dispose()


async def _rows(db: Database) -> list[tuple[int, str, int, int]]:
    async with db.reading() as session:
        rows = await session.execute(
            select(
                RateHitRow.id_instance, RateHitRow.method, RateHitRow.window, RateHitRow.hits
            ).order_by(RateHitRow.id_instance, RateHitRow.method, RateHitRow.window)
        )
        return [(r.id_instance, r.method, r.window, r.hits) for r in rows]


async def test_the_upsert_counts_per_instance_method_and_window(db: Database) -> None:
    async def hit(id_instance: int, method: str, window: int) -> int:
        async with db.transaction() as session:
            return await repo.count_hit(
                session, id_instance=id_instance, method=method, window=window
            )

    assert [await hit(1, "getSettings", 100) for _ in range(3)] == [1, 2, 3]
    assert await hit(1, "getSettings", 101) == 1
    assert await hit(1, "qr", 100) == 1
    assert await hit(2, "getSettings", 100) == 1
    async with db.transaction() as session:
        assert await repo.delete_before(session, window=101) == 3
    assert await _rows(db) == [(1, "getSettings", 101, 1)]


@pytest.fixture
async def pg_url(tmp_path: Path) -> AsyncIterator[str]:
    async with fresh_database("postgres", tmp_path) as url:
        yield url


async def test_two_processes_on_one_postgres_share_the_limits(pg_url: str) -> None:
    # Two Database objects are two API processes' connection pools.
    first, second = Database(pg_url), Database(pg_url)
    await first.migrate()
    clock = Clock()
    a = RateLimiter(policy=RatePolicy(), hits=DatabaseHits(first), clock=clock)
    b = RateLimiter(policy=RatePolicy(), hits=DatabaseHits(second), clock=clock)
    try:
        assert await refused(a, "getSettings") is None
        assert await refused(b, "getSettings") == 1
        assert await refused(b, "getSettings", id_instance=2) is None

        # 30 concurrent readChat requests (10/s) through both: exactly 10 get through.
        answers = await asyncio.gather(*(refused(a if n % 2 else b, "readChat") for n in range(30)))
        assert answers.count(None) == 10
        assert answers.count(1) == 20

        clock.ms = T0 + 700
        assert await refused(b, "getSettings") is None
    finally:
        await first.dispose()
        await second.dispose()


async def test_the_database_sweep_deletes_only_ended_windows(pg_url: str) -> None:
    db = Database(pg_url)
    await db.migrate()
    try:
        hits = DatabaseHits(db)
        for window in (100, 149, 150, 160):
            await hits.hit(id_instance=1, method="getSettings", window=window)
        await hits.sweep(before=150)
        assert [row[2] for row in await _rows(db)] == [150, 160]
        async with db.reading() as session:
            assert await session.scalar(select(func.count()).select_from(RateHitRow)) == 2
    finally:
        await db.dispose()
