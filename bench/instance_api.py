"""Instance-API workloads: getStateInstance, sendMessage enqueue, receiveNotification wake-up."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

import orjson

from bench.driver import Limits, Outcome
from bench.fleet import SeededInstance
from bench.http1 import Connection, HttpError, Response, connect
from bench.plan import Paced
from bench.server import ServerProcess
from bench.stats import AllOf, Figure, Run, Target, percentile
from bench.workloads import expect, measure

STATE_TARGET = AllOf((Target("req_per_s", 4000, at_least=True), Target("p99_ms", 25)))
SEND_TARGET = Target("req_per_s", 1500, at_least=True)
WAKE_TARGET = Target("p99_ms", 20)
# A long-poll outlives the whole workload; it is answered by the notification, never by time.
_POLL_TIMEOUT_S = 30
# Time for every long-poll to read its empty queue and park before the first wake-up.
_PARK_S = 1.0


async def get_state(
    server: ServerProcess,
    client: str,
    limits: Limits,
    backend: str,
    instances: Sequence[SeededInstance],
) -> Run:
    """GET getStateInstance, each request on the next instance: authentication plus one read."""
    paths = [i.path("getStateInstance") for i in instances]

    async def send(conn: Connection, i: int) -> Response:
        resp = await conn.request("GET", paths[i % len(paths)])
        return expect(resp, 200, b'{"stateInstance":')

    outcome, extra = await measure(server, client, send, limits)
    return Run(
        f"getStateInstance ({len(paths)} instances)",
        backend,
        limits.concurrency,
        outcome,
        STATE_TARGET,
        extra,
    )


async def send_message(
    server: ServerProcess,
    client: str,
    limits: Limits,
    backend: str,
    instances: Sequence[SeededInstance],
) -> Run:
    """POST sendMessage to instances that are not authorized: queued, never sent."""
    paths = [i.path("sendMessage") for i in instances]

    async def send(conn: Connection, i: int) -> Response:
        body = orjson.dumps({"chatId": "79001234567@c.us", "message": f"bench message {i}"})
        return expect(
            await conn.request("POST", paths[i % len(paths)], body), 200, b'{"idMessage":'
        )

    outcome, extra = await measure(server, client, send, limits)
    return Run(
        f"sendMessage enqueue ({len(paths)} instances)",
        backend,
        limits.concurrency,
        outcome,
        SEND_TARGET,
        extra,
    )


async def longpoll_wakeup(
    server: ServerProcess,
    client: str,
    paced: Paced,
    backend: str,
    instances: Sequence[SeededInstance],
) -> Run:
    """One parked receiveNotification per instance; a GET reboot (stateWebhook on) queues a
    stateInstanceChanged for it. Latency: from sending the reboot to the poll's answer."""
    woke: dict[int, float] = {}
    failures: list[str] = []

    async def poll(instance: SeededInstance) -> None:
        conn = connect(client, server.url)
        path = f"{instance.path('receiveNotification')}?receiveTimeout={_POLL_TIMEOUT_S}"
        try:
            while True:
                resp = await conn.request("GET", path)
                if resp.status != 200:
                    failures.append(f"receiveNotification: HTTP {resp.status} {resp.body[:80]!r}")
                    return
                if resp.body != b"null":
                    woke[instance.id_instance] = time.monotonic()
                    return
        except HttpError as exc:
            failures.append(f"receiveNotification: {exc}")
        finally:
            await conn.close()

    polls = [asyncio.create_task(poll(i)) for i in instances]
    await asyncio.sleep(_PARK_S + len(polls) * 0.002)
    sent: dict[int, float] = {}
    reboot_times: list[float] = []
    ctl = connect(client, server.url)
    start = time.monotonic()
    try:
        for n, instance in enumerate(instances):
            await asyncio.sleep(max(0.0, start + n / paced.rate - time.monotonic()))
            t0 = time.monotonic()
            try:
                expect(await ctl.request("GET", instance.path("reboot")), 200, b'{"isReboot":true')
            except Exception as exc:
                failures.append(f"reboot: {exc}")
                continue
            sent[instance.id_instance] = t0
            reboot_times.append(time.monotonic() - t0)
    finally:
        await ctl.close()
    elapsed = time.monotonic() - start
    _done, pending = await asyncio.wait(polls, timeout=10)
    for task in pending:
        task.cancel()
    await asyncio.gather(*pending, return_exceptions=True)
    latencies = [woke[i] - t0 for i, t0 in sent.items() if i in woke]
    missing = len(sent) - len(latencies)
    outcome = Outcome(
        latencies=latencies,
        elapsed=elapsed,
        errors=len(failures) + missing,
        first_error=failures[0] if failures else ("no answer" if missing else None),
    )
    extra: dict[str, Figure] = {
        "reboot_p50_ms": round(percentile(sorted(reboot_times), 50) * 1000, 1),
        "parked": len(instances),
    }
    return Run(
        "receiveNotification wake-up",
        backend,
        len(instances),
        outcome,
        WAKE_TARGET,
        extra,
        ratio=False,
    )
