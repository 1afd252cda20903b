"""Failure limits on partner and instance authentication, against a live server (both databases).

The server trusts X-Forwarded-For from loopback, so each test speaks as its own client
addresses (documentation ranges) and tests do not lock each other out.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from tests.conftest import Instance, fresh_database
from tests.support import BACKENDS, LiveServer, live_server, make_settings

CLIENT_FAILURES = 4
TARGET_FAILURES = 6
# 4 failures drain in 4 s: a locked-out client may try again about a second later.
LIMITS = {
    "client_failures": CLIENT_FAILURES,
    "target_failures": TARGET_FAILURES,
    "window_s": 4.0,
    "trusted_proxies": ["127.0.0.0/8"],
}
GREEN_429 = {"code": 429, "description": "Too Many Requests"}
UNAUTHORIZED = {"code": 401, "description": "Unauthorized"}
QUIET = {"enabled": False}


@pytest.fixture(scope="module", params=BACKENDS)
async def aserver(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[LiveServer]:
    folder = tmp_path_factory.mktemp("authlimits")
    async with fresh_database(request.param, folder) as url:
        settings = make_settings(
            folder / "data",
            url,
            authlimits=LIMITS,
            ratelimits=QUIET,
            runner=QUIET,
            delivery=QUIET,
        )
        with live_server(settings) as srv:
            yield srv


@pytest.fixture
async def http(aserver: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=aserver.url, timeout=30) as c:
        yield c


@pytest.fixture
async def instance(aserver: LiveServer, http: httpx.AsyncClient) -> Instance:
    ctx = Context.from_settings(aserver.settings)
    try:
        async with ctx.db.transaction() as session:
            _, token = await partners.create_partner(
                session=session, name=f"al-{secrets.token_hex(4)}"
            )
    finally:
        await ctx.db.dispose()
    r = await http.post(f"/partner/createInstance/{token}", json={}, headers=_as(_address()))
    assert r.status_code == 200, r.text
    return Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], token)


# Each client of each test is an address no other used (documentation ranges).
_ADDRESSES = [f"{net}.{n}" for net in ("203.0.113", "198.51.100") for n in range(1, 255)]


def _address() -> str:
    return _ADDRESSES.pop()


def _as(address: str) -> dict[str, str]:
    return {"X-Forwarded-For": address}


def _wrong() -> str:
    return secrets.token_hex(25)


def _retry_after(r: httpx.Response) -> int:
    assert r.status_code == 429, r.text
    value = int(r.headers["Retry-After"])
    assert 1 <= value <= 4
    return value


async def test_a_client_failing_instance_tokens_is_locked_out_then_forgiven(
    http: httpx.AsyncClient, instance: Instance
) -> None:
    guesser, other = _as(_address()), _as(_address())
    for _ in range(CLIENT_FAILURES):
        r = await http.get(instance.url("getStateInstance", _wrong()), headers=guesser)
        assert r.status_code == 401
    # Locked out: even the right token is refused unchecked, so a lucky guess confirms nothing.
    r = await http.get(instance.url("getStateInstance"), headers=guesser)
    _retry_after(r)
    assert r.json() == GREEN_429
    # Other clients are not affected.
    assert (await http.get(instance.url("getStateInstance"), headers=other)).status_code == 200
    # The failures drain: after Retry-After the guesser's right token works again.
    deadline = asyncio.get_running_loop().time() + 10
    while r.status_code == 429:
        assert asyncio.get_running_loop().time() < deadline, "never forgiven"
        await asyncio.sleep(0.2)
        r = await http.get(instance.url("getStateInstance"), headers=guesser)
    assert r.status_code == 200, r.text


async def test_partner_token_guessing_is_locked_out_in_the_green_format(
    http: httpx.AsyncClient, instance: Instance
) -> None:
    guesser = _as(_address())
    for _ in range(CLIENT_FAILURES):
        r = await http.get(f"/partner/getInstances/gac.{secrets.token_hex(24)}", headers=guesser)
        assert (r.status_code, r.json()) == (200, UNAUTHORIZED)
    r = await http.get(f"/partner/getInstances/{instance.partner_token}", headers=guesser)
    _retry_after(r)
    assert r.json() == GREEN_429
    r = await http.post(
        f"/partner/createInstance/{instance.partner_token}", json={}, headers=guesser
    )
    assert r.json() == GREEN_429
    r = await http.get(f"/partner/getInstances/{instance.partner_token}", headers=_as(_address()))
    assert r.status_code == 200


async def test_zapi_and_bearer_routes_answer_429_in_their_format(
    http: httpx.AsyncClient, instance: Instance
) -> None:
    guesser = _as(_address())
    for _ in range(CLIENT_FAILURES):
        r = await http.get(f"/instances/{instance.id}/token/{_wrong()}/status", headers=guesser)
        assert r.status_code == 404
    r = await http.get(f"/instances/{instance.id}/token/{instance.token}/status", headers=guesser)
    _retry_after(r)
    assert r.json()["error"].startswith("too many failed authentication attempts")
    bearer = {"Authorization": f"Bearer {instance.partner_token}"} | guesser
    r = await http.get("/instances?page=1&pageSize=5", headers=bearer)
    _retry_after(r)
    assert "error" in r.json()
    # One client, one count: the GREEN-API routes refuse it too.
    r = await http.get(instance.url("getStateInstance"), headers=guesser)
    assert r.json() == GREEN_429


async def test_a_missing_bearer_header_is_not_a_guess(
    http: httpx.AsyncClient, instance: Instance
) -> None:
    client = _as(_address())
    for _ in range(CLIENT_FAILURES * 2):
        assert (await http.get("/instances?page=1&pageSize=5", headers=client)).status_code == 401
    bearer = {"Authorization": f"Bearer {instance.partner_token}"} | client
    assert (await http.get("/instances?page=1&pageSize=5", headers=bearer)).status_code == 200


async def test_guesses_spread_over_addresses_lock_the_instance_but_not_its_users(
    http: httpx.AsyncClient, instance: Instance
) -> None:
    owner = _as(_address())
    r = await http.get(instance.url("getStateInstance", _wrong()), headers=_as(_address()))
    assert r.status_code == 401
    assert (await http.get(instance.url("getStateInstance"), headers=owner)).status_code == 200
    # Each address stays under its own limit; together they exceed the instance's.
    for _ in range(TARGET_FAILURES - 1):
        r = await http.get(instance.url("getStateInstance", _wrong()), headers=_as(_address()))
        assert r.status_code == 401
    newcomer = _as(_address())
    r = await http.get(instance.url("getStateInstance"), headers=newcomer)
    _retry_after(r)
    r = await http.get(f"/instances/{instance.id}/token/{instance.token}/status", headers=newcomer)
    _retry_after(r)
    # The client that authenticated on it while it was attacked keeps working.
    assert (await http.get(instance.url("getStateInstance"), headers=owner)).status_code == 200


async def test_each_token_of_a_batch_delete_is_a_guess(
    http: httpx.AsyncClient, instance: Instance
) -> None:
    guesser = {"Authorization": f"Bearer {instance.partner_token}"} | _as(_address())
    refs = [{"id": str(instance.id), "token": _wrong()} for _ in range(CLIENT_FAILURES + 2)]
    r = await http.post(
        "/instances/integrator/on-demand/batch-delete", json={"instances": refs}, headers=guesser
    )
    assert r.status_code == 200, r.text
    errors = [item["error"] for item in r.json()["instances"]]
    assert errors[:CLIENT_FAILURES] == ["Instance not found"] * CLIENT_FAILURES
    assert all(e.startswith("too many failed authentication attempts") for e in errors[-2:])
