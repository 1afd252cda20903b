"""Latency samples reduced to the figures a benchmark prints: percentiles, req/s, ratios."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

from bench.driver import Outcome

Figure = float | int | str


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100) of already sorted values, nearest-rank method."""
    if not sorted_values:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_values)))
    return sorted_values[rank - 1]


@dataclass(frozen=True, slots=True)
class Target:
    """A goal for one figure of a workload: at most (or at least) ``limit``."""

    figure: str
    limit: float
    at_least: bool = False

    def met(self, row: dict[str, Figure]) -> bool:
        raw = row.get(self.figure)
        if not isinstance(raw, int | float):
            return False  # the workload did not get as far as this figure
        value = float(raw)
        return value >= self.limit if self.at_least else value <= self.limit

    def __str__(self) -> str:
        return f"{self.figure} {'>=' if self.at_least else '<='} {self.limit:g}"


@dataclass(frozen=True, slots=True)
class AllOf:
    """Several goals a workload must meet together (e.g. a rate and a p99)."""

    targets: tuple[Target, ...]

    def met(self, row: dict[str, Figure]) -> bool:
        return all(t.met(row) for t in self.targets)

    def __str__(self) -> str:
        return " and ".join(str(t) for t in self.targets)


Goal = Target | AllOf


@dataclass(slots=True)
class Run:
    """One workload's outcome on one backend, with the extra figures it gathered."""

    workload: str
    backend: str
    concurrency: int
    outcome: Outcome
    target: Goal | None = None
    # Figures beyond latency (server RSS, CPU, bytes per response), printed as they are.
    extra: dict[str, Figure] = field(default_factory=dict)
    # The rate, where it is not "answers per second of the loop" (events delivered per second,
    # instances started per second).
    rate: float | None = None
    # Open-loop workloads send at a chosen pace, so their rate says nothing against /health.
    ratio: bool = True

    @property
    def rps(self) -> float:
        if self.rate is not None:
            return self.rate
        o = self.outcome
        return len(o.latencies) / o.elapsed if o.elapsed > 0 else math.nan

    def row(self, health_rps: float | None) -> dict[str, Figure]:
        """Flat figures for a table row or a JSON report; ratio is req/s over /health req/s."""
        o = self.outcome
        ordered = sorted(o.latencies)
        row: dict[str, Figure] = {
            "backend": self.backend,
            "workload": self.workload,
            "conc": self.concurrency,
            "requests": len(o.latencies),
            "errors": o.errors,
            "p50_ms": _ms(percentile(ordered, 50)),
            "p90_ms": _ms(percentile(ordered, 90)),
            "p99_ms": _ms(percentile(ordered, 99)),
            "req_per_s": _blank_nan(round(self.rps, 1)),
            "vs_health": round(self.rps / health_rps, 4)
            if health_rps and self.ratio and not math.isnan(self.rps)
            else "",
        }
        row.update(self.extra)
        if self.target is not None:
            row["target"] = str(self.target)
            row["met"] = "yes" if self.target.met(row) else "NO"
        return row


def _ms(seconds: float) -> Figure:
    return _blank_nan(round(seconds * 1000, 1))


def _blank_nan(value: float) -> Figure:
    """No figure (an empty cell) rather than "nan" where a workload has none."""
    return "" if math.isnan(value) else value
