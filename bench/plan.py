"""How much each workload does in a default run and in a quick one (bounded in count and time)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.driver import Limits

# On the main server of a backend (health always runs: the ratios are taken against it).
SERVER_WORKLOADS = (
    "health",
    "list",
    "zapi",
    "console",
    "create",
    "state",
    "send",
    "longpoll",
    "webhook",
)
# Each on a server of its own: the fleet with the runner on, media with one instance.
WORKLOADS = (*SERVER_WORKLOADS, "fleet", "media")
DEFAULT_SIZES = (10_000, 100_000)
QUICK_SIZES = (10_000,)


@dataclass(frozen=True, slots=True)
class Paced:
    """An open-loop workload: events at a steady ``rate`` per second for ``seconds``."""

    rate: float
    seconds: float

    @property
    def events(self) -> int:
        return round(self.rate * self.seconds)


@dataclass(frozen=True, slots=True)
class Plan:
    health: Limits
    create: Limits
    quick: bool
    # Z-API list pages (plain and searched) of the largest listing partner.
    zapi: Limits
    # The console's instance list (bench/console_list.py): each shape, and the partner's size.
    console: Limits
    console_instances: int
    # Authenticated instance GET (getStateInstance), keep-alive, over `instances` instances.
    state: Limits
    # POST sendMessage to instances that are not authorized: the enqueue alone.
    send: Limits
    # Instances the state and send workloads (and webhook throughput) spread over.
    instances: int
    # receiveNotification long-polls parked at once; one reboot wakes each, at this pace.
    longpoll: Paced
    # Notifications queued at once for the delivery worker, and how long it may take (what is
    # left then is dropped; the rate is taken over what arrived).
    notifications: int
    drain_s: float
    # Event-to-POST latency: events at a moderate steady pace.
    webhook_latency: Paced
    # Authorized sandbox instances started by one `serve` with the runner on.
    fleet: int
    fleet_timeout_s: float
    # After the fleet is ready: how long to watch the idle server (CPU, RSS).
    settle_s: float
    # Rounds of the 100 MB transfers (upload, download, multipart; the median is reported).
    media_rounds: int

    def listing(self, size: int) -> Limits:
        """One client, back to back: latency of a whole listing, not server saturation."""
        if self.quick:
            return Limits(1, _clamp(100_000 // size, 3, 10), 8, warmup=1)
        return Limits(1, _clamp(1_000_000 // size, 8, 40), 30, warmup=1)


def _clamp(value: int, low: int, high: int) -> int:
    return max(low, min(high, value))


FULL = Plan(
    # Keep-alive floor: 64 connections hammering the cheapest route there is.
    health=Limits(64, 100_000, 10),
    # A provisioning burst: 32 requests in flight at all times.
    create=Limits(32, 4_000, 15),
    quick=False,
    zapi=Limits(4, 20_000, 10),
    console=Limits(4, 5_000, 8),
    console_instances=100_000,
    state=Limits(64, 100_000, 10),
    send=Limits(32, 30_000, 10),
    instances=100,
    longpoll=Paced(rate=20, seconds=10),
    notifications=10_000,
    drain_s=30,
    webhook_latency=Paced(rate=100, seconds=10),
    fleet=10_000,
    fleet_timeout_s=120,
    settle_s=10,
    media_rounds=3,
)
QUICK = Plan(
    health=Limits(64, 20_000, 3),
    create=Limits(32, 600, 4),
    quick=True,
    zapi=Limits(4, 3_000, 3),
    console=Limits(4, 500, 2),
    console_instances=10_000,
    state=Limits(64, 20_000, 3),
    send=Limits(32, 5_000, 3),
    instances=100,
    longpoll=Paced(rate=20, seconds=2),
    notifications=3_000,
    drain_s=10,
    webhook_latency=Paced(rate=100, seconds=2),
    fleet=2_000,
    fleet_timeout_s=60,
    settle_s=3,
    media_rounds=1,
)
