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

from tests.factories import new_partner_token
from tests.support import Instance, LiveServer, server_fixture

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


# Nothing else runs that could interfere with the failure counts.
UNLIMITED = {"ratelimits": QUIET, "runner": QUIET, "delivery": QUIET}

aserver = server_fixture(
    "authlimits", "A live server with these failure limits.", authlimits=LIMITS, **UNLIMITED
)


@pytest.fixture
async def http(aserver: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=aserver.url, timeout=30) as c:
        yield c


@pytest.fixture
async def instance(aserver: LiveServer, http: httpx.AsyncClient) -> Instance:
    return await _new_instance(aserver, http, _as(_address()))


async def _new_instance(
    server: LiveServer, http: httpx.AsyncClient, headers: dict[str, str] | None = None
) -> Instance:
    """An instance of a new partner, created through the partner API by ``http``."""
    token = await new_partner_token(server.settings, "al")
    r = await http.post(f"/partner/createInstance/{token}", json={}, headers=headers)
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


# Real source addresses: all of 127.0.0.0/8 is loopback on Linux, so a client socket bound to
# 127.0.0.x reaches the server as that peer (no X-Forwarded-For involved).
_PEERS = [f"127.0.0.{n}" for n in range(10, 250)]


slow_server = server_fixture(
    "authlimits-slow",
    "Limits that drain in ten minutes: a lock holds for the whole test, however slow.",
    authlimits=LIMITS | {"window_s": 600.0},
    **UNLIMITED,
)


def _from(server: LiveServer, peer: str) -> httpx.AsyncClient:
    transport = httpx.AsyncHTTPTransport(local_address=peer)
    return httpx.AsyncClient(base_url=server.url, transport=transport, timeout=30)


async def test_a_client_known_before_the_attack_is_not_locked_out_by_it(
    slow_server: LiveServer,
) -> None:
    owner_peer, newcomer_peer, *attacker_peers = (_PEERS.pop() for _ in range(6))
    async with _from(slow_server, owner_peer) as owner, _from(slow_server, newcomer_peer) as new:
        instance = await _new_instance(slow_server, owner)
        # The owner's last success comes before the first wrong token.
        assert (await owner.get(instance.url("getStateInstance"))).status_code == 200
        # Four addresses, each under its own limit, together far over the instance's: once
        # it is full, they too are refused unchecked.
        guesses: list[int] = []
        for peer in attacker_peers:
            async with _from(slow_server, peer) as attacker:
                for _ in range(CLIENT_FAILURES - 1):
                    r = await attacker.get(instance.url("getStateInstance", _wrong()))
                    guesses.append(r.status_code)
        assert guesses[:TARGET_FAILURES] == [401] * TARGET_FAILURES
        assert guesses[-1] == 429
        assert (await new.get(instance.url("getStateInstance"))).status_code == 429
        codes = [(await owner.get(instance.url("getStateInstance"))).status_code for _ in range(10)]
        assert codes == [200] * 10
        assert (await new.get(instance.url("getStateInstance"))).status_code == 429
