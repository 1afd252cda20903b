"""A live server whose delivery worker retries fast, and a real webhook receiver."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from tests.delivery.hooks import FAST_DELIVERY, Emit, MakeHooked
from tests.factories import emit_seqs
from tests.receiver import Receiver, running_receiver
from tests.support import Instance, LiveServer, server_fixture


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


dserver = server_fixture(
    "delivery",
    "A live server whose delivery worker retries fast.",
    scope="session",
    delivery=FAST_DELIVERY,
    ratelimits={"enabled": False},
)


@pytest.fixture(scope="session")
async def dctx(dserver: LiveServer) -> AsyncIterator[Context]:
    context = Context.from_settings(dserver.settings)
    yield context
    await context.db.dispose()


@pytest.fixture
async def dclient(dserver: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=dserver.url, timeout=30) as c:
        yield c


@pytest.fixture
def make_hooked(dclient: httpx.AsyncClient, dctx: Context, receiver: Receiver) -> MakeHooked:
    """Factory: an instance (of a new partner) whose webhookUrl is receiver's /hook/{name}."""

    async def make(name: str, **settings: object) -> Instance:
        async with dctx.db.transaction() as session:
            _, token = await partners.create_partner(session=session, name=f"hook-{name}")
        body = {"webhookUrl": receiver.hook(name), **settings}
        r = await dclient.post(f"/partner/createInstance/{token}", json=body)
        assert r.status_code == 200, r.text
        data = r.json()
        return Instance(data["idInstance"], data["apiTokenInstance"], token)

    return make


@pytest.fixture
def emit(dctx: Context) -> Emit:
    """Queue notifications carrying the given sequence numbers, in one transaction."""

    async def queue(instance: Instance, seqs: list[int]) -> None:
        await emit_seqs(dctx, [(instance.id, seq) for seq in seqs])

    return queue


@pytest.fixture
def data_dir(dserver: LiveServer) -> Path:
    return dserver.settings.data_dir
