"""The partner-API workloads: what each request is, what counts as a right answer, targets."""

from __future__ import annotations

import os
from collections.abc import Callable

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


class Busy:
    """How busy server, driver, machine (and any other process named) were from creation to
    :meth:`figures`, in % of one core.

    The machine figure includes the database server's processes, and anything else running:
    well above server + driver (+ PostgreSQL) means the figures were disturbed.
    """

    def __init__(
        self, server: ServerProcess, others: dict[str, Callable[[], float]] | None = None
    ) -> None:
        self._server = server
        self._others = others or {}
        self._start = {name: cpu() for name, cpu in self._others.items()}
        self._server_cpu, self._driver = server.cpu_seconds(), os.times()
        self._machine = machine_busy_seconds()

    def figures(self, span: float) -> dict[str, Figure]:
        after = os.times()
        driver_cpu = after.user - self._driver.user + after.system - self._driver.system
        span = span or 1.0
        out: dict[str, Figure] = {
            "server_cpu_%": round((self._server.cpu_seconds() - self._server_cpu) / span * 100),
            "driver_cpu_%": round(driver_cpu / span * 100),
        }
        for name, cpu in self._others.items():
            out[f"{name}_cpu_%"] = round((cpu() - self._start[name]) / span * 100)
        out["machine_cpu_%"] = round((machine_busy_seconds() - self._machine) / span * 100)
        return out


async def measure(
    server: ServerProcess, client: str, send: Send, limits: Limits
) -> tuple[Outcome, dict[str, Figure]]:
    """Run the loop and note how busy server, driver and machine were (see :class:`Busy`)."""
    busy = Busy(server)
    outcome = await closed_loop(server.url, client, send, limits)
    return outcome, busy.figures(outcome.elapsed)


def expect(resp: Response, status: int, starts: bytes) -> Response:
    if resp.status != status or not resp.body.startswith(starts):
        raise BadResponse(f"HTTP {resp.status}: {resp.body[:120]!r}")
    return resp


async def health(server: ServerProcess, client: str, limits: Limits, backend: str) -> Run:
    """GET /health: routing, middleware and one ``SELECT 1`` — the floor of any request."""

    async def send(conn: Connection, _i: int) -> Response:
        return expect(await conn.request("GET", "/health"), 200, b'{"status":"ok"')

    outcome, extra = await measure(server, client, send, limits)
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
        return expect(await conn.request("POST", path, body), 200, b'{"idInstance":')

    outcome, extra = await measure(server, client, send, limits)
    return Run("createInstance", backend, limits.concurrency, outcome, CREATE_TARGET, extra)


async def get_instances(
    server: ServerProcess, client: str, limits: Limits, backend: str, partner: SeededPartner
) -> Run:
    """GET getInstances of a partner with many instances; checks the whole answer once."""
    path = f"/partner/getInstances/{partner.token}"
    await _check_listing(server, client, path, partner.instances)

    async def send(conn: Connection, _i: int) -> Response:
        return expect(await conn.request("GET", path, keep_body=False), 200, b"[")

    rss_before = server.rss_mib()
    server.reset_peak_rss()
    outcome, extra = await measure(server, client, send, limits)
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
        resp = expect(await conn.request("GET", path), 200, b"[")
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
