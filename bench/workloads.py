"""The partner-API workloads: what each request is, what counts as a right answer, targets."""

from __future__ import annotations

import os

import orjson

from bench.driver import BadResponse, Limits, Outcome, Send, closed_loop
from bench.http1 import Connection, Response, connect
from bench.seed import SeededPartner
from bench.server import ServerProcess, machine_busy_seconds
from bench.stats import Figure, Run, Target, percentile

# The goals the partner API is built to (see docs/benchmarks.md).
LIST_TARGETS = {10_000: Target("p50_ms", 150), 100_000: Target("p50_ms", 1500)}
CREATE_TARGET = Target("req_per_s", 300, at_least=True)

# Keys every getInstances element carries, in the documented order.
LISTING_KEYS = (
    "idInstance",
    "name",
    "typeInstance",
    "typeAccount",
    "partnerUserUiid",
    "timeCreated",
    "timeDeleted",
    "apiTokenInstance",
    "deleted",
    "tariff",
    "isFree",
    "isPartner",
    "expirationDate",
    "isExpired",
)


async def _measure(
    server: ServerProcess, client: str, send: Send, limits: Limits
) -> tuple[Outcome, dict[str, Figure]]:
    """Run the loop and note how busy server, driver and machine were (100 = one core).

    The machine figure includes the database server's processes, and anything else running:
    well above server + driver (+ PostgreSQL) means the figures were disturbed.
    """
    server_cpu, driver, machine = server.cpu_seconds(), os.times(), machine_busy_seconds()
    outcome = await closed_loop(server.url, client, send, limits)
    after = os.times()
    driver_cpu = after.user - driver.user + after.system - driver.system
    span = outcome.elapsed or 1.0
    return outcome, {
        "server_cpu_%": round((server.cpu_seconds() - server_cpu) / span * 100),
        "driver_cpu_%": round(driver_cpu / span * 100),
        "machine_cpu_%": round((machine_busy_seconds() - machine) / span * 100),
    }


def _expect(resp: Response, status: int, starts: bytes) -> Response:
    if resp.status != status or not resp.body.startswith(starts):
        raise BadResponse(f"HTTP {resp.status}: {resp.body[:120]!r}")
    return resp


async def health(server: ServerProcess, client: str, limits: Limits, backend: str) -> Run:
    """GET /health: routing, middleware and one ``SELECT 1`` — the floor of any request."""

    async def send(conn: Connection, _i: int) -> Response:
        return _expect(await conn.request("GET", "/health"), 200, b'{"status":"ok"')

    outcome, extra = await _measure(server, client, send, limits)
    return Run("health", backend, limits.concurrency, outcome, extra=extra)


async def create_instance(
    server: ServerProcess, client: str, limits: Limits, backend: str, partner: SeededPartner
) -> Run:
    """POST createInstance with a name and a few settings, as a provisioning script would."""
    path = f"/partner/createInstance/{partner.token}"

    async def send(conn: Connection, i: int) -> Response:
        body = orjson.dumps(
            {
                "name": f"bench {i}",
                "webhookUrl": "",
                "delaySendMessagesMilliseconds": 1000,
                "incomingWebhook": "yes",
                "stateWebhook": "yes",
            }
        )
        return _expect(await conn.request("POST", path, body), 200, b'{"idInstance":')

    outcome, extra = await _measure(server, client, send, limits)
    return Run("createInstance", backend, limits.concurrency, outcome, CREATE_TARGET, extra)


async def get_instances(
    server: ServerProcess, client: str, limits: Limits, backend: str, partner: SeededPartner
) -> Run:
    """GET getInstances of a partner with many instances; checks the whole answer once."""
    path = f"/partner/getInstances/{partner.token}"
    await _check_listing(server, client, path, partner.instances)

    async def send(conn: Connection, _i: int) -> Response:
        return _expect(await conn.request("GET", path, keep_body=False), 200, b"[")

    rss_before = server.rss_mib()
    server.reset_peak_rss()
    outcome, extra = await _measure(server, client, send, limits)
    count = len(outcome.latencies) or 1
    extra |= {
        "ttfb_p50_ms": round(percentile(sorted(outcome.first_bytes), 50) * 1000, 1),
        "MB_per_resp": round(outcome.bytes_read / count / 1e6, 1),
        "rss_before_MiB": round(rss_before),
        "rss_peak_MiB": round(server.peak_rss_mib()),
        "rss_after_MiB": round(server.rss_mib()),
    }
    name = f"getInstances {partner.instances:,}"
    return Run(
        name, backend, limits.concurrency, outcome, LIST_TARGETS.get(partner.instances), extra
    )


async def _check_listing(server: ServerProcess, client: str, path: str, expected: int) -> None:
    """One untimed request whose whole body is parsed: right count, keys and order."""
    conn = connect(client, server.url)
    try:
        resp = _expect(await conn.request("GET", path), 200, b"[")
    finally:
        await conn.close()
    items = orjson.loads(resp.body)
    if len(items) != expected:
        raise BadResponse(f"getInstances listed {len(items)} instances, expected {expected}")
    if items and tuple(items[0]) != LISTING_KEYS:
        raise BadResponse(f"unexpected getInstances keys {list(items[0])}")
    created = [item["timeCreated"] for item in items]
    if created != sorted(created):
        raise BadResponse("getInstances is not in creation order")
