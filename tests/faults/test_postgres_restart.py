"""PostgreSQL restarted under a running `fleetgate serve`: clean 503s, then recovery by itself.

The cluster is a throwaway one (tests/faults/pgcluster.py), so stopping it disturbs nobody.
Traffic runs while it is stopped fast and, later, crashed (immediate stop): every answer is a
200 or a 503 in the façade's format, never a 500; once the server is back, requests succeed
again within a deadline, every send accepted before or between the outages reaches the phone
exactly once, every notification is delivered, and the LISTEN connection wakes long-polls.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import httpx

from fleetgate.api.unavailable import DOWN_TEXT, RETRY_AFTER_S
from tests.faults.pgcluster import Cluster, throwaway_cluster
from tests.processes import Cli, Served, base_env
from tests.receiver import Receiver, running_receiver
from tests.sending import bearer, eventually, inbox, new_phone, phone_sends
from tests.support import Instance, authorize

RECOVERY_DEADLINE_S = 10.0
OUTAGE_S = 1.5
GREEN_503 = {"code": 503, "description": DOWN_TEXT}
PLAIN_503 = {"error": DOWN_TEXT}
FAST = {
    "FLEETGATE_RUNNER__TICK_S": "0.2",
    "FLEETGATE_DELIVERY__POLL_S": "0.2",
    "FLEETGATE_DELIVERY__PAUSE_S": "0.3",
    "FLEETGATE_RATELIMITS__ENABLED": "false",
}


@dataclass
class Traffic:
    """Requests sent in a loop while the database goes away and comes back."""

    client: httpx.AsyncClient
    hooked: Instance
    to_phone: str
    statuses: Counter[int] = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    accepted: list[str] = field(default_factory=list)

    async def run(self, stop: asyncio.Event) -> None:
        n = 0
        while not stop.is_set():
            n += 1
            await self._one(self.hooked.url("getMessagesCount"), None)
            if n % 3 == 0:
                body = {"chatId": f"{self.to_phone}@c.us", "message": f"load {n}"}
                await self._one(self.hooked.url("sendMessage"), body)
            await asyncio.sleep(0.02)

    async def _one(self, url: str, body: object) -> None:
        r = await (self.client.post(url, json=body) if body else self.client.get(url))
        self.statuses[r.status_code] += 1
        if r.status_code == 503:
            if r.json() != GREEN_503 or r.headers.get("retry-after") != str(RETRY_AFTER_S):
                self.bad.append(f"{url}: {r.status_code} {r.text} {dict(r.headers)}")
        elif r.status_code != 200:
            self.bad.append(f"{url}: {r.status_code} {r.text}")
        elif body:
            self.accepted.append(r.json()["idMessage"])


@asynccontextmanager
async def traffic_running(traffic: Traffic) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(traffic.run(stop))
    try:
        yield
    finally:
        stop.set()
        await task


async def _recovery_s(client: httpx.AsyncClient, instance: Instance) -> float:
    """Seconds from now until the instance API answers 200 again (bounded)."""
    start = time.monotonic()

    async def ok() -> bool:
        return (await client.get(instance.url("getMessagesCount"))).status_code == 200

    await eventually(ok, "the instance API answering again", RECOVERY_DEADLINE_S)
    return time.monotonic() - start


async def _every_facade_answers_503(
    client: httpx.AsyncClient, inst: Instance, polled: Instance
) -> None:
    # Requests that cannot be answered without the database (instance reads that the
    # authentication cache can answer may still succeed, and that is fine).
    token = inst.partner_token
    green = [
        await client.get(f"/partner/getInstances/{token}"),
        await client.post(f"/partner/createInstance/{token}", json={}),
        await client.post(inst.url("setSettings"), json={"delaySendMessagesMilliseconds": 900}),
        await client.get(inst.url("getMessagesCount")),
        await client.get(polled.url("receiveNotification")),
    ]
    zapi = f"/instances/{inst.id}/token/{inst.token}"
    plain = [
        await client.get("/instances", params={"page": 1, "pageSize": 5}, headers=bearer(token)),
        await client.put(f"{zapi}/update-name", json={"value": "renamed"}),
        await client.get("/admin/dead-letters", headers=bearer(token)),
        await client.get(f"/sandbox/phones/{new_phone()}/messages", headers=bearer(token)),
    ]
    for r in green:
        assert (r.status_code, r.json()) == (503, GREEN_503), (r.request.url.path, r.text)
    for r in plain:
        assert (r.status_code, r.json()) == (503, PLAIN_503), (r.request.url.path, r.text)
    for r in green + plain:
        assert r.headers["retry-after"] == str(RETRY_AFTER_S)
    health = await client.get("/health")
    assert health.status_code == 503, health.text


async def _outage(
    cluster: Cluster, mode: str, during: Callable[[], Awaitable[None]] | None = None
) -> float:
    """Stop the cluster, keep it down a while, start it; seconds it was down."""
    start = time.monotonic()
    await asyncio.to_thread(cluster.stop, mode)
    await asyncio.to_thread(cluster.wait_gone)
    if during is not None:
        await during()
    await asyncio.sleep(OUTAGE_S)
    await asyncio.to_thread(cluster.start)
    return time.monotonic() - start


async def _listening(cluster: Cluster) -> bool:
    """Whether a backend of the cluster has LISTEN as its last statement (signals.py's)."""
    conn = await asyncpg.connect(host="127.0.0.1", port=cluster.port, user="postgres")
    try:
        found = await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity WHERE query ILIKE 'LISTEN %'"
        )
    finally:
        await conn.close()
    return bool(found)


async def _long_poll_wakes(
    client: httpx.AsyncClient, cluster: Cluster, polled: Instance, phone: str, instance_phone: str
) -> float:
    """Seconds from a phone's message to the long-poll that was waiting for it.

    The server's LISTEN connection is back first (seen in pg_stat_activity), so the wake-up
    can come by NOTIFY; without it, only the waiter's re-check (5 s at the soonest) would.
    """
    poll = asyncio.create_task(
        client.get(polled.url("receiveNotification"), params={"receiveTimeout": 30})
    )
    await eventually(lambda: _listening(cluster), "the server LISTENs again", 20)
    assert not poll.done(), poll.result().text
    sent_at = time.monotonic()
    await phone_sends(client, polled.partner_token, phone, instance_phone, "wake up")
    r = await asyncio.wait_for(poll, 40)
    assert r.status_code == 200, r.text
    assert r.json()["body"]["typeWebhook"] == "incomingMessageReceived", r.text
    return time.monotonic() - sent_at


async def _create(client: httpx.AsyncClient, token: str, **settings: object) -> Instance:
    r = await client.post(f"/partner/createInstance/{token}", json=settings)
    assert r.status_code == 200, r.text
    return Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], token)


async def _drain(client: httpx.AsyncClient, inst: Instance) -> None:
    async def empty() -> bool:
        r = await client.get(inst.url("getMessagesCount"))
        return r.status_code == 200 and r.json()["count"] == 0

    await eventually(empty, "the send queue drained", 60)


async def _check_everything_arrived(
    client: httpx.AsyncClient, served: Served, traffic: Traffic, receiver: Receiver
) -> None:
    hooked = traffic.hooked
    await _drain(client, hooked)
    got = [m["idMessage"] for m in await inbox(client, traffic.to_phone, hooked.partner_token)]
    lost = set(traffic.accepted) - set(got)
    assert sorted(got) == sorted(traffic.accepted), f"lost {lost} or sent twice"

    def sent_statuses() -> set[str]:
        return {
            r.body["idMessage"]
            for r in receiver.of("pg")
            if r.body["typeWebhook"] == "outgoingMessageStatus" and r.body["status"] == "sent"
        }

    async def all_delivered() -> bool:
        return sent_statuses() >= set(traffic.accepted)

    await eventually(all_delivered, "a sent status webhook for every accepted send", 60)
    assert "Exception in ASGI application" not in served.stderr()


async def test_postgres_restart_fails_cleanly_and_recovers(tmp_path: Path) -> None:
    with throwaway_cluster() as cluster, running_receiver() as receiver:
        data_dir = tmp_path / "data"
        cli = Cli("postgres", data_dir, base_env(data_dir, cluster.url) | FAST)
        token = cli.create("faults")
        with cli.serve() as served:
            async with httpx.AsyncClient(base_url=served.url, timeout=30) as client:
                hooked = await _create(
                    client, token, webhookUrl=receiver.hook("pg"), outgoingWebhook="yes"
                )
                polled = await _create(client, token, incomingWebhook="yes")
                polled_phone, writer = new_phone(), new_phone()
                await authorize(client, hooked, new_phone())
                await authorize(client, polled, polled_phone)
                traffic = Traffic(client, hooked, new_phone())
                receiver.behave("pg", fail_first=10**9)  # notifications pile up meanwhile

                async with traffic_running(traffic):
                    await asyncio.sleep(0.5)
                    fast_down = await _outage(
                        cluster, "fast", lambda: _every_facade_answers_503(client, hooked, polled)
                    )
                    fast_recovery = await _recovery_s(client, hooked)
                    await asyncio.sleep(0.5)
                    crash_down = await _outage(cluster, "immediate")
                    crash_recovery = await _recovery_s(client, hooked)
                    await asyncio.sleep(0.5)

                assert traffic.bad == []
                assert traffic.statuses[503] > 0 and traffic.statuses[200] > 0, traffic.statuses
                assert set(traffic.statuses) <= {200, 503}, traffic.statuses
                receiver.behave("pg")
                await _check_everything_arrived(client, served, traffic, receiver)
                wake = await _long_poll_wakes(client, cluster, polled, writer, polled_phone)
                # Below the soonest re-check (5 s on PostgreSQL): it woke on the NOTIFY.
                assert wake < 4.5, f"long-poll woke after {wake:.1f} s: LISTEN not back?"
                print(
                    f"\ndown {fast_down:.2f} s (fast stop) and {crash_down:.2f} s (crash); "
                    f"answering again {fast_recovery:.2f} s and {crash_recovery:.2f} s after "
                    f"the restart; answers {dict(traffic.statuses)}; "
                    f"sends accepted {len(traffic.accepted)}, lost 0; long-poll wake {wake:.2f} s"
                )
