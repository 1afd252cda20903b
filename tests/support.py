"""Test helpers: databases of each backend, a real uvicorn server on loopback, and the
instances made on it (test modules import these; conftest.py holds only fixtures)."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import asyncpg
import httpx
import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.engine import make_url

from fleetgate.app import create_app
from fleetgate.httpserver import guarded_protocol
from fleetgate.settings import DeliverySettings, Settings
from fleetgate.storage.db import Database

DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
BACKENDS = ("sqlite", "postgres")


def postgres_url() -> str:
    return os.environ.get("FLEETGATE_TEST_POSTGRES_URL", DEFAULT_PG_URL)


def postgres_required() -> bool:
    return os.environ.get("FLEETGATE_TEST_REQUIRE_POSTGRES") == "1"


def postgres_missing(reason: str) -> NoReturn:
    """Skip a test whose PostgreSQL part cannot run here; fail instead where CI requires it.

    Every test that needs PostgreSQL (a server, or its binaries) goes through here, so that
    FLEETGATE_TEST_REQUIRE_POSTGRES=1 turns a missing piece into a failure, never a skip that
    would let the only test of that part vanish from a green run.
    """
    if postgres_required():
        pytest.fail(f"PostgreSQL is required here (FLEETGATE_TEST_REQUIRE_POSTGRES=1): {reason}")
    pytest.skip(f"PostgreSQL tests skipped: {reason}; set FLEETGATE_TEST_POSTGRES_URL")


async def postgres_unavailable_reason() -> str | None:
    """None when the test PostgreSQL answers, else why not."""
    url = make_url(postgres_url())
    try:
        conn = await asyncpg.connect(
            host=url.host, port=url.port, user=url.username, database=url.database, timeout=3
        )
    except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
        return f"PostgreSQL not reachable at {url.host}:{url.port} ({type(exc).__name__}: {exc})"
    await conn.close()
    return None


async def create_pg_database() -> str:
    """A fresh, empty PostgreSQL database for one test session; returns its URL."""
    url = make_url(postgres_url())
    name = f"fleetgate_test_{os.getpid()}_{secrets.token_hex(4)}"
    conn = await asyncpg.connect(
        host=url.host, port=url.port, user=url.username, database=url.database
    )
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return url.set(database=name).render_as_string(hide_password=False)


async def drop_pg_database(db_url: str) -> None:
    url = make_url(db_url)
    admin = make_url(postgres_url())
    conn = await asyncpg.connect(
        host=admin.host, port=admin.port, user=admin.username, database=admin.database
    )
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)')
    finally:
        await conn.close()


def sqlite_url(folder: Path) -> str:
    return f"sqlite+aiosqlite:///{folder / 'fleetgate.db'}"


@asynccontextmanager
async def fresh_database(backend: str, folder: Path) -> AsyncIterator[str]:
    """A new empty database: a SQLite file in folder, or a throwaway PostgreSQL database."""
    if backend == "sqlite":
        yield sqlite_url(folder)
        return
    reason = await postgres_unavailable_reason()
    if reason is not None:
        postgres_missing(reason)
    url = await create_pg_database()
    try:
        yield url
    finally:
        await drop_pg_database(url)


def make_settings(data_dir: Path, database_url: str, **overrides: object) -> Settings:
    """Settings for a test process: a throwaway data dir and the backend under test.

    Authentication failure limits are off unless asked for: every test connects from
    127.0.0.1, and many fail on purpose (tests/api/test_authlimits.py turns them on).
    Webhooks may go to loopback (off by default), where every test receiver listens, unless
    the delivery settings given say otherwise.
    """
    overrides.setdefault("authlimits", {"enabled": False})
    overrides["delivery"] = loopback_allowed(overrides.get("delivery"))
    return Settings(data_dir=data_dir, database_url=database_url, **overrides)  # type: ignore[arg-type]


def loopback_allowed(delivery: object) -> DeliverySettings:
    """``delivery`` (settings, a dict or None) with loopback targets allowed unless it sets it."""
    if isinstance(delivery, DeliverySettings):
        if "allow_loopback" in delivery.model_fields_set:
            return delivery
        return delivery.model_copy(update={"allow_loopback": True})
    given = dict(delivery or {})  # type: ignore[call-overload]
    given.setdefault("allow_loopback", True)
    return DeliverySettings(**given)


class LiveServer:
    """fleetgate under a real uvicorn, in a thread, on 127.0.0.1 and a free port."""

    def __init__(self, settings: Settings) -> None:
        # IPPROTO_TCP, not 0: only then does asyncio set TCP_NODELAY on accepted connections.
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        if not settings.media.public_url:  # links in answers and notifications point here
            media = settings.media.model_copy(update={"public_url": self.url})
            settings = settings.model_copy(update={"media": media})
        self.settings = settings
        self.app = create_app(settings)
        config = uvicorn.Config(
            self.app,
            http=guarded_protocol(settings.http),
            timeout_keep_alive=settings.http.keep_alive_s,
            log_level="warning",
            access_log=False,
            lifespan="on",
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._run, name="live-server", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> None:
        self._thread.start()
        for _ in range(600):
            if self._server.started:
                return
            if not self._thread.is_alive():
                raise RuntimeError("live server failed to start")
            threading.Event().wait(0.02)
        raise RuntimeError("live server did not start within 12 s")

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._sock.close()


@contextmanager
def live_server(settings: Settings) -> Iterator[LiveServer]:
    server = LiveServer(settings)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@asynccontextmanager
async def fresh_server(
    backend: str, folder: Path, **overrides: object
) -> AsyncIterator[LiveServer]:
    """A live server on a new empty database of ``backend``, set up by make_settings."""
    async with fresh_database(backend, folder) as url:
        with live_server(make_settings(folder / "data", url, **overrides)) as srv:
            yield srv


def server_fixture(folder: str, doc: str, *, scope: str = "module", **overrides: object) -> Any:
    """A fixture: a live server of each backend with these settings overrides (see make_settings).

    For tests that need settings the shared session server does not have; assign the result
    to the fixture's name. ``folder`` names its temporary directory, ``doc`` describes it.
    """

    async def served(
        request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[LiveServer]:
        async with fresh_server(request.param, tmp_path_factory.mktemp(folder), **overrides) as srv:
            yield srv

    served.__doc__ = doc
    return pytest.fixture(scope=scope, params=BACKENDS)(served)  # type: ignore[call-overload]


@dataclass(frozen=True)
class Instance:
    """An instance created through the partner API of the live server."""

    id: int
    token: str
    partner_token: str

    def url(self, method: str, token: str | None = None) -> str:
        return f"/waInstance{self.id}/{method}/{token or self.token}"


MakeInstance = Callable[..., Awaitable[Instance]]
MakePartner = Callable[[], Awaitable[str]]


async def wait_for_state(
    client: httpx.AsyncClient, instance: Instance, state: str, timeout: float = 10.0
) -> None:
    """Poll getStateInstance until it shows ``state`` (bounded)."""
    deadline = asyncio.get_running_loop().time() + timeout
    seen = None
    while asyncio.get_running_loop().time() < deadline:
        r = await client.get(instance.url("getStateInstance"))
        seen = r.json().get("stateInstance") if r.status_code == 200 else r.text
        if seen == state:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"instance {instance.id} never reached {state!r}; last {seen!r}")


async def authorize(client: httpx.AsyncClient, instance: Instance, phone: str) -> None:
    """Link a virtual phone to the instance by scanning its QR, and wait until authorized."""
    await wait_for_state(client, instance, "notAuthorized")
    auth = {"Authorization": f"Bearer {instance.partner_token}"}
    qr = await client.get(f"/sandbox/instances/{instance.id}/qr", headers=auth)
    assert qr.status_code == 200, qr.text
    r = await client.post(
        f"/sandbox/phones/{phone}/scan", json={"qr": qr.json()["qr"]}, headers=auth
    )
    assert r.status_code == 200, r.text
    await wait_for_state(client, instance, "authorized")


async def until(check: Callable[[], Awaitable[bool]], what: str, *, timeout: float = 15.0) -> None:
    """Poll ``check`` until it holds: how tests wait for a condition instead of sleeping.

    The bound only keeps a broken build from hanging; a passing run never comes near it.
    """
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout:g} s: {what}")
        await asyncio.sleep(0.01)


async def until_a_writer_waits(db: Database) -> None:
    """Until some write transaction waits for the one the caller holds open.

    On SQLite the writers of a process queue on the database's asyncio lock (storage/db.py),
    so a waiter shows in the lock's queue (asyncio keeps it in ``_waiters``; it has no public
    count). On PostgreSQL the blocked statement's backend waits on a lock, which
    pg_stat_activity shows.
    """
    if db.is_sqlite:
        lock = db._writer
        assert lock is not None

        async def queued() -> bool:
            return bool(lock._waiters)  # type: ignore[attr-defined]

        await until(queued, "a writer queued on the SQLite write lock")
        return

    async def blocked() -> bool:
        async with db.reading() as session:
            count = await session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        return bool(count)

    await until(blocked, "a PostgreSQL statement waiting on a lock")
