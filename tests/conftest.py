"""Fixtures: each database test runs on SQLite and on PostgreSQL, against a live server."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.settings import Settings
from tests.support import (
    BACKENDS,
    LiveServer,
    create_pg_database,
    drop_pg_database,
    live_server,
    make_settings,
    postgres_missing,
    postgres_unavailable_reason,
    sqlite_url,
)

MakePartner = Callable[[], Awaitable[str]]


@pytest.fixture(scope="session", params=BACKENDS)
async def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[str]:
    """A migrated-on-first-use database of each backend, shared by the session."""
    async with fresh_database(request.param, tmp_path_factory.mktemp("sqlite")) as url:
        yield url


@pytest.fixture(params=BACKENDS)
async def fresh_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """An empty database of each backend for one test (not migrated)."""
    async with fresh_database(request.param, tmp_path) as url:
        yield url


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


@asynccontextmanager
async def fresh_server(
    backend: str, folder: Path, **overrides: object
) -> AsyncIterator[LiveServer]:
    """A live server on a new empty database of ``backend``, set up by make_settings."""
    async with fresh_database(backend, folder) as url:
        with live_server(make_settings(folder / "data", url, **overrides)) as srv:
            yield srv


@pytest.fixture(scope="session")
def settings(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return make_settings(
        tmp_path_factory.mktemp("data"), database_url, ratelimits={"enabled": False}
    )


@pytest.fixture(scope="session")
def server(settings: Settings) -> Iterator[LiveServer]:
    """One live fleetgate per backend; tests isolate themselves by using their own partner."""
    with live_server(settings) as srv:
        yield srv


@pytest.fixture(scope="session")
async def ctx(server: LiveServer) -> AsyncIterator[Context]:
    """A test-side handle on the live server's database (after it migrated it)."""
    context = Context.from_settings(server.settings)
    yield context
    await context.db.dispose()


@pytest.fixture
def make_partner(ctx: Context) -> MakePartner:
    """Factory: create a fresh partner directly through the service, return its token."""
    counter = iter(range(1_000_000))

    async def make() -> str:
        name = f"p{next(counter)}-{secrets.token_hex(6)}"
        async with ctx.db.transaction() as session:
            _, token = await partners.create_partner(session=session, name=name)
        return token

    return make


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c


@pytest.fixture
def tmp_data(tmp_path: Path) -> Path:
    return tmp_path / "data"


@dataclass(frozen=True)
class Instance:
    """An instance created through the partner API of the live server."""

    id: int
    token: str
    partner_token: str

    def url(self, method: str, token: str | None = None) -> str:
        return f"/waInstance{self.id}/{method}/{token or self.token}"


MakeInstance = Callable[..., Awaitable[Instance]]


@pytest.fixture
def make_instance(client: httpx.AsyncClient, make_partner: MakePartner) -> MakeInstance:
    """Factory: a new instance (of a new partner unless one is given) with optional settings."""

    async def make(partner_token: str | None = None, **settings: object) -> Instance:
        token = partner_token or await make_partner()
        r = await client.post(f"/partner/createInstance/{token}", json=settings)
        assert r.status_code == 200, r.text
        body = r.json()
        return Instance(body["idInstance"], body["apiTokenInstance"], token)

    return make


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
