"""Latency samples reduced to the figures a benchmark prints: percentiles and req/s."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, nearest-rank method."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(slots=True)
class Run:
    """What one workload measured: per-request latencies in seconds over a wall-clock span."""

    name: str
    backend: str
    concurrency: int
    latencies: list[float]
    elapsed: float
    errors: int = 0
    # Free-form extra figures (server RSS, bytes per response, ...), printed as they are.
    extra: dict[str, float | int | str] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.count / self.elapsed if self.elapsed > 0 else math.nan

    def pct_ms(self, q: float) -> float:
        return percentile(sorted(self.latencies), q) * 1000

    def summary(self, health_rps: float | None) -> dict[str, float | int | str]:
        """Flat figures for a table row or a JSON report."""
        ordered = sorted(self.latencies)
        row: dict[str, float | int | str] = {
            "backend": self.backend,
            "workload": self.name,
            "concurrency": self.concurrency,
            "requests": self.count,
            "errors": self.errors,
            "seconds": round(self.elapsed, 2),
            "p50_ms": round(percentile(ordered, 50) * 1000, 2),
            "p90_ms": round(percentile(ordered, 90) * 1000, 2),
            "p99_ms": round(percentile(ordered, 99) * 1000, 2),
            "req_per_s": round(self.rps, 1),
        }
        if health_rps:
            row["vs_health"] = round(self.rps / health_rps, 4)
        row.update(self.extra)
        return row
