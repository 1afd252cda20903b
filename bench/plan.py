"""How much each workload does in a default run and in a quick one (bounded in count and time)."""

from __future__ import annotations

from dataclasses import dataclass

from bench.driver import Limits

WORKLOADS = ("health", "list", "create")
DEFAULT_SIZES = (10_000, 100_000)
QUICK_SIZES = (10_000,)


@dataclass(frozen=True, slots=True)
class Plan:
    health: Limits
    create: Limits
    quick: bool

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
)
QUICK = Plan(health=Limits(64, 20_000, 3), create=Limits(32, 600, 4), quick=True)
