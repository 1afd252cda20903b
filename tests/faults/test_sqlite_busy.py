"""SQLite write lock held by another connection: writes wait, then past the bound answer 503.

A separate sqlite3 connection holds ``BEGIN IMMEDIATE`` (as another process would, e.g. a CLI
command or a backup). Reads go on (WAL); a write waits for the lock and succeeds if it comes
free in time, else answers 503 with Retry-After in its façade's format within the bound. A
refused write changes nothing.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from fleetgate.api.unavailable import BUSY_TEXT, RETRY_AFTER_S
from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.storage.db import BUSY_TIMEOUT_S
from tests.sending import bearer, new_phone
from tests.support import Instance, LiveServer, live_server, make_settings, sqlite_url

# A refused write answers within the bound: its turn among this process's writers, then the
# lock of the other connection, each at most BUSY_TIMEOUT_S.
ANSWER_WITHIN_S = 2 * BUSY_TIMEOUT_S + 0.5


@pytest.fixture
async def busy_server(tmp_path: Path) -> AsyncIterator[tuple[LiveServer, Path, str]]:
    """A server of its own on a SQLite file (its runner and worker suffer the lock too)."""
    settings = make_settings(tmp_path / "data", sqlite_url(tmp_path), ratelimits={"enabled": False})
    with live_server(settings) as server:
        ctx = Context.from_settings(settings)
        try:
            async with ctx.db.transaction() as session:
                _, token = await partners.create_partner(session=session, name="busy")
        finally:
            await ctx.db.dispose()
        yield server, tmp_path / "fleetgate.db", token


class HeldLock:
    """The write lock of another connection; when its release began, once it has."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn
        self._mutex = threading.Lock()
        self.released_at: float | None = None

    def release(self) -> None:
        with self._mutex:
            if self.released_at is None:
                # Stamped before the rollback: nothing can get the lock before this moment.
                self.released_at = time.monotonic()
                self._conn.rollback()

    @property
    def held(self) -> bool:
        return self.released_at is None


@contextmanager
def write_lock(path: Path, hold_s: float) -> Iterator[HeldLock]:
    """Another connection takes the write lock now and keeps it ``hold_s`` seconds at most."""
    conn = sqlite3.connect(path, isolation_level=None, timeout=10, check_same_thread=False)
    conn.execute("BEGIN IMMEDIATE")
    lock = HeldLock(conn)
    releaser = threading.Timer(hold_s, lock.release)
    releaser.start()
    try:
        yield lock
    finally:
        releaser.cancel()
        lock.release()
        conn.close()


async def _instance(client: httpx.AsyncClient, token: str) -> Instance:
    r = await client.post(f"/partner/createInstance/{token}", json={"name": "before"})
    assert r.status_code == 200, r.text
    return Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], token)


async def _timed(request: Awaitable[httpx.Response]) -> tuple[httpx.Response, float]:
    start = time.monotonic()
    r = await request
    return r, time.monotonic() - start


async def test_a_write_waits_for_a_short_lock_and_succeeds(
    busy_server: tuple[LiveServer, Path, str],
) -> None:
    server, path, token = busy_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        inst = await _instance(client, token)
        with write_lock(path, 1.0) as lock:
            r = await client.post(inst.url("setSettings"), json={"webhookUrlToken": "t1"})
            answered = time.monotonic()
        # It waited for the lock (answered after its release began) and then wrote: a write
        # that had given up would have answered 503.
        assert r.status_code == 200, r.text
        assert lock.released_at is not None and answered >= lock.released_at
        settings = (await client.get(inst.url("getSettings"))).json()
        assert settings["webhookUrlToken"] == "t1"


async def test_a_lock_held_past_the_bound_gives_503_and_changes_nothing(
    busy_server: tuple[LiveServer, Path, str],
) -> None:
    server, path, token = busy_server
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        inst = await _instance(client, token)
        before = (await client.get(inst.url("getSettings"))).json()
        zapi = f"/instances/{inst.id}/token/{inst.token}"
        # Far longer than any write can wait (ANSWER_WITHIN_S): every one of them must give up
        # while it is still held; it is let go as soon as they have.
        with write_lock(path, 6 * ANSWER_WITHIN_S) as lock:
            writes = [
                client.post(inst.url("setSettings"), json={"delaySendMessagesMilliseconds": 900}),
                client.post(f"/partner/createInstance/{token}", json={}),
                client.put(f"{zapi}/update-name", json={"value": "renamed"}),
                client.post(
                    f"/sandbox/phones/{new_phone()}/messages",
                    json={"chatId": f"{new_phone()}@c.us", "message": "hi"},
                    headers=bearer(token),
                ),
            ]
            tasks = [asyncio.ensure_future(_timed(w)) for w in writes]
            # Reads do not wait for the writer (WAL).
            read = await client.get(inst.url("getMessagesCount"))
            assert read.status_code == 200, read.text
            assert all(not t.done() for t in tasks), "a read waited as long as a write"
            answers = await asyncio.gather(*tasks)
            assert lock.held, "a write waited for the lock to go instead of giving up"
        green = [{"code": 503, "description": BUSY_TEXT}] * 2
        plain = [{"error": BUSY_TEXT}] * 2
        assert [r.json() for r, _ in answers] == green + plain
        for r, took in answers:
            assert r.status_code == 503
            assert r.headers["retry-after"] == str(RETRY_AFTER_S)
            assert took <= 3 * ANSWER_WITHIN_S, took  # gave up by its bound, not the lock's
        assert (await client.get(inst.url("getSettings"))).json() == before
        listed = (await client.get(f"/partner/getInstances/{token}")).json()
        assert [i["idInstance"] for i in listed] == [inst.id]
        r = await client.post(inst.url("setSettings"), json={"delaySendMessagesMilliseconds": 900})
        assert r.status_code == 200, r.text
