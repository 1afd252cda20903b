"""Fixtures: each database test runs on SQLite and on PostgreSQL, against a live server.

Only fixtures live here; the helpers test modules import are in tests/support.py."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.settings import Settings
from tests.processes import Cli, base_env
from tests.support import (
    BACKENDS,
    Instance,
    LiveServer,
    MakeInstance,
    MakePartner,
    fresh_database,
    live_server,
    make_settings,
)


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


@pytest.fixture(params=BACKENDS)
async def cli(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    """The `fleetgate` console script on a fresh data dir, plus a fresh PostgreSQL database
    for the postgres variant (on SQLite, the default database file inside the data dir)."""
    data_dir = tmp_path / "data"
    async with fresh_database(request.param, tmp_path) as url:
        own_url = None if request.param == "sqlite" else url
        yield Cli(request.param, data_dir, base_env(data_dir, own_url))


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
