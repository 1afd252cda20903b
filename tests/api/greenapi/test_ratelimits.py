"""Rate limits of the instance API, against a live server with limits on (both databases)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute
from whatsapp_api_client_python.API import GreenAPI

from fleetgate.api.greenapi.auth import PREFIX
from fleetgate.api.greenapi.ratelimit import method_name, rate_limited
from fleetgate.app import create_app
from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.services.ratelimits import RATES
from tests.support import (
    Instance,
    LiveServer,
    live_server,
    make_settings,
    server_fixture,
    sqlite_url,
)

T = TypeVar("T")
TOO_MANY = b'{"code":429,"description":"Too Many Requests"}'
UNAUTHORIZED = b'{"code":401,"description":"Unauthorized"}'
# Small enough to exceed quickly; also shows that overrides reach the server.
LIMITED = {"overrides": {"deleteNotification": 3}}
QUIET = {"enabled": False}

MakeLimited = Callable[[], Awaitable[Instance]]


lserver = server_fixture(
    "ratelimits",
    "A live server with rate limits on, on a fresh database of each backend.",
    ratelimits=LIMITED,
    runner=QUIET,
    delivery=QUIET,
)


@pytest.fixture
async def lclient(lserver: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=lserver.url, timeout=30) as c:
        yield c


@pytest.fixture
async def make_limited(
    lserver: LiveServer, lclient: httpx.AsyncClient
) -> AsyncIterator[MakeLimited]:
    """Factory: a new instance on the rate-limited server."""
    ctx = Context.from_settings(lserver.settings)

    async def make() -> Instance:
        async with ctx.db.transaction() as session:
            _, token = await partners.create_partner(
                session=session, name=f"rl-{secrets.token_hex(6)}"
            )
        r = await lclient.post(f"/partner/createInstance/{token}", json={})
        assert r.status_code == 200, r.text
        body = r.json()
        return Instance(body["idInstance"], body["apiTokenInstance"], token)

    yield make
    await ctx.db.dispose()


async def start_of_second() -> None:
    """Wait until just past the next whole second, so a burst falls in one window."""
    await asyncio.sleep(1.01 - time.time() % 1)


async def in_one_second(burst: Callable[[], Awaitable[T]], *, attempts: int = 5) -> T:
    """Run ``burst`` from the start of a second; again from the next if it ran past its end.

    Requests are counted in whole-second windows of the server's clock (this machine's), so
    only a burst sent and answered within one second shows what one window allows. On a
    loaded machine one may run over; it is then inconclusive, not failed, and run again.
    """
    for _ in range(attempts):
        await start_of_second()
        began = time.time()
        result = await burst()
        if int(time.time()) == int(began):
            return result
    raise AssertionError(f"no burst fitted in one second in {attempts} tries")


async def test_a_second_call_in_one_second_gets_429_with_retry_after(
    lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    inst = await make_limited()

    async def burst() -> tuple[int, httpx.Response]:
        first = await lclient.get(inst.url("getSettings"))
        return first.status_code, await lclient.get(inst.url("getSettings"))

    first, r = await in_one_second(burst)
    assert first == 200
    assert r.status_code == 429
    assert r.content == TOO_MANY
    assert r.headers["content-type"] == "application/json"
    assert r.headers["retry-after"] == "1"


async def test_other_methods_and_other_instances_are_not_affected(
    lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    a, b = await make_limited(), await make_limited()

    async def burst() -> list[int]:
        return [
            (await lclient.get(a.url("getSettings"))).status_code,
            (await lclient.get(a.url("getSettings"))).status_code,
            (await lclient.get(a.url("getStateInstance"))).status_code,
            (await lclient.get(b.url("getSettings"))).status_code,
            (await lclient.get(a.url("getWaSettings"))).status_code,
        ]

    assert await in_one_second(burst) == [200, 429, 200, 200, 200]


async def test_the_next_second_works_again(
    lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    inst = await make_limited()

    async def burst() -> list[int]:
        return [(await lclient.get(inst.url("getStateInstance"))).status_code for _ in range(2)]

    assert await in_one_second(burst) == [200, 429]
    await start_of_second()
    assert (await lclient.get(inst.url("getStateInstance"))).status_code == 200


async def test_a_wrong_token_is_401_and_not_counted(
    lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    inst = await make_limited()

    async def burst() -> list[tuple[int, bytes]]:
        wrong = [await lclient.get(inst.url("getSettings", "f" * 50)) for _ in range(3)]
        right = [await lclient.get(inst.url("getSettings")) for _ in range(2)]
        # Refusing a bad token still comes first once the limit is reached.
        late = await lclient.get(inst.url("getSettings", "f" * 50))
        return [(r.status_code, r.content) for r in (*wrong, *right, late)]

    answers = await in_one_second(burst)
    assert answers[:3] == [(401, UNAUTHORIZED)] * 3
    assert [status for status, _ in answers[3:]] == [200, 429, 401]


async def test_the_spelling_of_a_method_name_does_not_dodge_its_limit(
    lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    inst = await make_limited()

    async def burst() -> list[int]:
        return [
            (await lclient.get(inst.url("GetSettings"))).status_code,
            (await lclient.get(inst.url("getsettings"))).status_code,
        ]

    assert await in_one_second(burst) == [200, 429]


async def test_overrides_apply_and_every_route_of_a_method_shares_its_count(
    lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    inst = await make_limited()

    async def burst() -> list[httpx.Response]:
        return [
            await lclient.delete(inst.url("deleteNotification") + "/1"),
            await lclient.request("DELETE", inst.url("deleteNotification") + "/", json=1),
            await lclient.delete(inst.url("deleteNotification") + "/2"),
            await lclient.delete(inst.url("deleteNotification") + "/3"),
        ]

    by_path, by_body, again, over = await in_one_second(burst)
    assert [r.json() for r in (by_path, by_body, again)] == [{"result": False}] * 3
    assert (over.status_code, over.content) == (429, TOO_MANY)


async def test_the_official_client_waits_out_a_429_and_succeeds(
    lserver: LiveServer, lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    inst = await make_limited()
    api = GreenAPI(str(inst.id), inst.token, host=lserver.url)
    for _ in range(5):
        await start_of_second()
        began = time.time()
        assert (await lclient.get(inst.url("getSettings"))).status_code == 200
        started = time.monotonic()
        answer = await asyncio.to_thread(api.account.getSettings)
        assert answer.code == 200
        assert answer.data["webhookUrl"] == ""
        took = time.monotonic() - started
        # Only a client whose first try fell in the same second must have been refused: one
        # that ran past the second (a loaded machine) tells nothing, and is tried again.
        if took >= 0.5 or int(time.time()) == int(began):
            break
    # It was refused first and slept the Retry-After second before trying again.
    assert took >= 0.5
    metrics = (await lclient.get("/metrics")).text
    assert 'route="/waInstance{idInstance}/getSettings/{apiTokenInstance}",status="429"' in metrics


async def test_api_processes_on_one_postgres_share_the_limits(
    lserver: LiveServer, lclient: httpx.AsyncClient, make_limited: MakeLimited
) -> None:
    if lserver.settings.database_url is None or "postgresql" not in lserver.settings.database_url:
        pytest.skip("SQLite serves the API from one process")
    inst = await make_limited()
    # A second API process: same database and server key, its own memory.
    with live_server(lserver.settings) as second:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as via_second:

            async def burst() -> tuple[int, httpx.Response]:
                first = await lclient.get(inst.url("getSettings"))
                return first.status_code, await via_second.get(inst.url("getSettings"))

            first, r = await in_one_second(burst)
            assert first == 200
            assert (r.status_code, r.content) == (429, TOO_MANY)
            assert r.headers["retry-after"] == "1"


def _api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        # FastAPI keeps included routers nested (since 0.13x); older versions copy their routes.
        nested = getattr(route, "original_router", None)
        if nested is not None:
            yield from _api_routes(nested.routes)


def test_every_instance_route_is_rate_limited_with_a_rate_in_the_table(tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path / "data", sqlite_url(tmp_path)))
    known = {name.lower() for name in RATES}
    routes = [r for r in _api_routes(app.routes) if r.path.startswith(PREFIX + "/")]
    assert {method_name(r.path) for r in routes} >= {"getSettings", "receiveNotification"}
    unlisted = sorted({r.path for r in routes if method_name(r.path).lower() not in known})
    assert unlisted == []
    unlimited = sorted(
        {r.path for r in routes if all(d.dependency is not rate_limited for d in r.dependencies)}
    )
    assert unlimited == []
