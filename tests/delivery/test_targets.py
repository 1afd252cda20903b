"""SSRF guard at delivery time: every resolved address is checked, and the connection goes to
a checked address (pinned) whatever the name resolves to later, with TLS still verified for the
name. No DNS server is involved: names are `localhost` (the hosts file) and numeric forms."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.delivery.http import WebhookClient
from fleetgate.delivery.worker import NON_PUBLIC_FAILURE
from fleetgate.services import partners
from fleetgate.targets import Target, TargetPolicy, TargetRefused
from tests.delivery.hooks import Emit
from tests.delivery.listeners import Listeners, self_signed
from tests.receiver import Receiver
from tests.support import Instance

STRICT = {"allow_loopback": False, "allow_private": False}
LOOPBACK = {"allow_loopback": True, "allow_private": False}
PRIVATE = {"allow_loopback": False, "allow_private": True}
OPEN = {"allow_loopback": True, "allow_private": True}


@pytest.mark.parametrize(
    ("url", "allowed_under"),
    [
        # The same loopback host, however it is written: by name or in numeric forms that the
        # resolver (inet_aton) reads as 127.0.0.1 without asking DNS.
        ("http://localhost:9/x", [LOOPBACK, OPEN]),
        ("http://127.0.0.1:9/x", [LOOPBACK, OPEN]),
        ("http://2130706433:9/x", [LOOPBACK, OPEN]),
        ("http://0x7f.0.0.1:9/x", [LOOPBACK, OPEN]),
        ("http://127.1:9/x", [LOOPBACK, OPEN]),
        ("http://[::1]:9/x", [LOOPBACK, OPEN]),
        # IPv6 forms that carry 127.0.0.1: mapped, 6to4, NAT64.
        ("http://[::ffff:127.0.0.1]:9/x", [LOOPBACK, OPEN]),
        ("http://[::ffff:7f00:1]:9/x", [LOOPBACK, OPEN]),
        ("http://[2002:7f00:1::1]:9/x", [LOOPBACK, OPEN]),
        ("http://[64:ff9b::7f00:1]:9/x", [LOOPBACK, OPEN]),
        # IPv6 forms Python 3.11 calls global: not public, and checked by the IPv4 they carry
        # (IPv4-compatible, IPv4-translated (SIIT), local-use NAT64), and site-local.
        ("http://[::127.0.0.1]:9/x", [OPEN]),
        ("http://[::7f00:1]:9/x", [OPEN]),
        ("http://[::93.184.215.14]/x", [PRIVATE, OPEN]),
        ("http://[::ffff:0:127.0.0.1]:9/x", [OPEN]),
        ("http://[::ffff:0:10.1.2.3]/x", [PRIVATE, OPEN]),
        ("http://[::ffff:0:93.184.215.14]/x", [PRIVATE, OPEN]),
        ("http://[64:ff9b:1::7f00:1]:9/x", [OPEN]),
        ("http://[64:ff9b:1::5db8:d70e]/x", [PRIVATE, OPEN]),
        ("http://[fec0::1]/x", [PRIVATE, OPEN]),
        ("http://[fed0:1:2::3]/x", [PRIVATE, OPEN]),
        # The well-known NAT64 prefix is public: a public IPv4 inside passes everywhere.
        ("http://[64:ff9b::5db8:d70e]/x", [STRICT, LOOPBACK, PRIVATE, OPEN]),
        # A user name or password in the URL: never, whatever the host.
        ("http://user@93.184.215.14/x", []),
        ("http://user:pw@93.184.215.14/x", []),
        ("http://@93.184.215.14/x", []),
        ("http://93.184.215.14\\@127.0.0.1:9/x", []),
        ("http://user:pw@127.0.0.1:9/x", []),
        # Private, link-local, shared and reserved networks.
        ("http://10.1.2.3/x", [PRIVATE, OPEN]),
        ("http://[::ffff:10.1.2.3]/x", [PRIVATE, OPEN]),
        ("http://169.254.169.254/latest/meta-data", [PRIVATE, OPEN]),
        ("http://100.64.0.1/x", [PRIVATE, OPEN]),
        ("http://[fe80::1]/x", [PRIVATE, OPEN]),
        ("http://[fd00::1]/x", [PRIVATE, OPEN]),
        ("http://224.0.0.1/x", [PRIVATE, OPEN]),
        # This host under another name: never.
        ("http://0.0.0.0/x", []),
        ("http://0/x", []),
        ("http://[::]/x", []),
        # Not a URL fleetgate can send to.
        ("http://0177.0.0.1/x", []),
        ("ftp://93.184.215.14/x", []),
        ("http:///nohost", []),
        ("file:///etc/passwd", []),
        # A public address.
        ("http://93.184.215.14/x", [STRICT, LOOPBACK, PRIVATE, OPEN]),
        ("https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/x", [STRICT, LOOPBACK, PRIVATE, OPEN]),
    ],
)
async def test_policy(url: str, allowed_under: list[dict[str, bool]]) -> None:
    for options in (STRICT, LOOPBACK, PRIVATE, OPEN):
        policy = TargetPolicy(**options)
        if options in allowed_under:
            target = await policy.check(url)
            assert target.addresses
        else:
            with pytest.raises(TargetRefused):
                await policy.check(url)


async def test_a_numeric_host_is_pinned_to_the_address_it_means() -> None:
    target = await TargetPolicy(**LOOPBACK).check("http://2130706433:8080/hook")
    assert (target.host, target.port, target.addresses) == ("2130706433", 8080, ("127.0.0.1",))


async def test_resolutions_are_cached_briefly_and_ip_literals_need_none() -> None:
    policy = TargetPolicy(**LOOPBACK, cache_s=30)
    for _ in range(3):
        await policy.check("http://127.0.0.1:9/x")
        await policy.check("http://[::1]:9/x")
    assert policy.lookups == 0
    for _ in range(3):
        assert (await policy.check("http://localhost:9/x")).addresses == ("127.0.0.1",)
    assert policy.lookups == 1
    await policy.check("http://localhost:10/x")  # another port: another entry
    assert policy.lookups == 2
    uncached = TargetPolicy(**LOOPBACK, cache_s=0)
    for _ in range(3):
        await uncached.check("http://localhost:9/x")
    assert uncached.lookups == 3


@pytest.fixture
async def listeners() -> AsyncIterator[Listeners]:
    found = Listeners()
    yield found
    await found.close()


def _free_port_on_both() -> int:
    """A port free on 127.0.0.1 and on ::1 alike."""
    for _ in range(50):
        with socket.socket(socket.AF_INET6) as s6:
            s6.bind(("::1", 0))
            port = int(s6.getsockname()[1])
            with socket.socket() as s4:
                try:
                    s4.bind(("127.0.0.1", port))
                except OSError:
                    continue
            return port
    raise AssertionError("no port free on both loopback addresses")


async def _post(client: WebhookClient, target: Target) -> httpx.Response:
    return await client.post(target, key=1, content=b"{}", headers={}, timeout=5)


async def test_the_connection_goes_to_the_checked_address_not_a_new_resolution(
    listeners: Listeners,
) -> None:
    port = _free_port_on_both()
    await listeners.listen("127.0.0.1", port)
    await listeners.listen("::1", port)
    policy = TargetPolicy(**LOOPBACK)
    async with WebhookClient(4) as client:
        # localhost resolves to 127.0.0.1 here: checked, and connected to.
        target = await policy.check(f"http://localhost:{port}/resolved")
        assert target.addresses == ("127.0.0.1",)
        assert (await _post(client, target)).status_code == 200
        # Pinned to ::1 (as if the check had resolved it so), the same URL goes to ::1 only:
        # the client never resolves the name itself.
        pinned = Target(target.url.copy_with(path="/pinned"), "localhost", port, ("::1",))
        assert (await _post(client, pinned)).status_code == 200
    assert listeners.paths("127.0.0.1") == ["/resolved"]
    assert listeners.paths("::1") == ["/pinned"]
    assert {h.host for h in listeners.hits} == {f"localhost:{port}"}  # the name, kept


async def test_a_pinned_address_that_refuses_is_a_failure_not_a_fallback_to_dns(
    listeners: Listeners,
) -> None:
    port = _free_port_on_both()
    await listeners.listen("127.0.0.1", port)  # what localhost resolves to, listening
    url = httpx.URL(f"http://localhost:{port}/x")
    async with WebhookClient(4) as client:
        with pytest.raises(httpx.ConnectError):
            await _post(client, Target(url, "localhost", port, ("::1",)))
        # A target whose name is not the URL's is refused outright.
        with pytest.raises(TargetRefused):
            await _post(client, Target(url, "127.0.0.1", port, ("127.0.0.1",)))
    assert listeners.hits == []


async def test_tls_is_verified_for_the_name_while_connecting_to_the_pinned_address(
    listeners: Listeners, tmp_path: Path
) -> None:
    server_tls, trusting = self_signed(tmp_path, "localhost")
    port = await listeners.listen("127.0.0.1", tls=server_tls)
    target = Target(httpx.URL(f"https://localhost:{port}/tls"), "localhost", port, ("127.0.0.1",))
    async with WebhookClient(4, ssl_context=trusting) as client:
        assert (await _post(client, target)).status_code == 200
    # The certificate names only "localhost", not 127.0.0.1: it verified against the name,
    # and the handshake asked for the name (SNI).
    assert listeners.sni == ["localhost"]
    assert listeners.paths() == ["/tls"]

    _, other_ca = self_signed(tmp_path, "other.test")
    async with WebhookClient(4, ssl_context=other_ca) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await _post(client, target)
    assert listeners.paths() == ["/tls"]


async def test_a_redirect_is_an_answer_and_its_location_is_not_fetched(
    listeners: Listeners,
) -> None:
    port = await listeners.listen("127.0.0.1")
    listeners.redirects["/hook"] = f"http://127.0.0.1:{port}/elsewhere"
    target = await TargetPolicy(**LOOPBACK).check(f"http://127.0.0.1:{port}/hook")
    async with WebhookClient(4) as client:
        response = await _post(client, target)
    assert response.status_code == 302
    assert listeners.paths() == ["/hook"]


async def _dead_letter(
    dctx: Context, dclient: httpx.AsyncClient, emit: Emit, url: str
) -> dict[str, Any]:
    """Queue one notification for a new instance hooked to ``url``; its dead letter."""
    async with dctx.db.transaction() as session:
        _, token = await partners.create_partner(
            session=session, name=f"dead-{secrets.token_hex(4)}"
        )
    r = await dclient.post(f"/partner/createInstance/{token}", json={"webhookUrl": url})
    instance = Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], token)
    await emit(instance, [1])
    # Retried until it gives up (FAST_DELIVERY: 3 s), then a dead letter saying why.
    deadline = time.monotonic() + 20
    while True:
        dead = (
            await dclient.get("/admin/dead-letters", headers={"Authorization": f"Bearer {token}"})
        ).json()["deadLetters"]
        if dead:
            return dict(dead[0])
        assert time.monotonic() < deadline, f"no dead letter for {url}"
        await asyncio.sleep(0.1)


async def test_the_worker_counts_a_redirect_as_a_failed_delivery(
    listeners: Listeners, dctx: Context, dclient: httpx.AsyncClient, emit: Emit
) -> None:
    port = await listeners.listen("127.0.0.1")
    listeners.redirects["/hook"] = f"http://127.0.0.1:{port}/landed"
    dead = await _dead_letter(dctx, dclient, emit, f"http://127.0.0.1:{port}/hook")
    assert dead["lastError"] == NON_PUBLIC_FAILURE
    assert dead["attempts"] >= 2
    assert set(listeners.paths()) == {"/hook"}


async def test_closed_failing_and_redirecting_local_ports_read_alike_in_dead_letters(
    listeners: Listeners,
    receiver: Receiver,
    dctx: Context,
    dclient: httpx.AsyncClient,
    emit: Emit,
) -> None:
    port = await listeners.listen("127.0.0.1")
    listeners.redirects["/moved"] = "http://127.0.0.1:9/elsewhere"
    receiver.behave("failing", fail_first=10_000)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]  # nothing listens once the socket is closed
    urls = [
        f"http://127.0.0.1:{closed}/hook",
        f"http://127.0.0.1:{port}/moved",
        receiver.hook("failing"),
    ]
    dead = await asyncio.gather(*(_dead_letter(dctx, dclient, emit, url) for url in urls))
    # A partner learns nothing about which of the operator's ports are open.
    assert [d["lastError"] for d in dead] == [NON_PUBLIC_FAILURE] * 3
    assert listeners.paths() and receiver.of("failing", ok_only=False)
