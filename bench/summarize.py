"""Several runs' JSON reports as one table: the median of each figure, and its range.

    python -m bench.summarize run1.json run2.json run3.json

A 2-core machine shared with other work gives noisy single runs; the median of three, with
the spread beside it, is the figure worth quoting.
"""

from __future__ import annotations

import statistics
import sys
from collections import defaultdict
from pathlib import Path

import orjson

from bench.report import table
from bench.stats import Figure

FIGURES = (
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "req_per_s",
    "vs_health",
    "rss_peak_MiB",
    "first_ms",
    "owned_s",
    "ready_s",
    "rss_settled_MiB",
    "idle_cpu_%",
    "MB_per_s",
    "vs_disk",
    "rss_growth_MiB",
    "rss_growth_max_MiB",
)


def summarize(reports: list[dict[str, list[dict[str, Figure]]]]) -> list[dict[str, Figure]]:
    """One row per backend and workload: ``median (min-max)`` of each figure over the runs."""
    grouped: dict[tuple[str, str], list[dict[str, Figure]]] = defaultdict(list)
    for report in reports:
        for row in report["results"]:
            grouped[(str(row["backend"]), str(row["workload"]))].append(row)
    out: list[dict[str, Figure]] = []
    for (backend, workload), rows in grouped.items():
        summary: dict[str, Figure] = {"backend": backend, "workload": workload, "runs": len(rows)}
        for name in FIGURES:
            values = [float(r[name]) for r in rows if isinstance(r.get(name), int | float)]
            if values:
                summary[name] = _spread(values)
        if "target" in rows[0]:
            summary["target"] = rows[0]["target"]
            summary["met"] = f"{sum(r['met'] == 'yes' for r in rows)}/{len(rows)}"
        out.append(summary)
    return out


def _spread(values: list[float]) -> str:
    def fmt(v: float) -> str:
        return f"{v:.4g}" if abs(v) < 1 else f"{v:,.1f}"

    mid = fmt(statistics.median(values))
    return mid if len(values) == 1 else f"{mid} ({fmt(min(values))}..{fmt(max(values))})"


def main(argv: list[str] | None = None) -> None:
    paths = [Path(a) for a in (sys.argv[1:] if argv is None else argv)]
    if not paths:
        sys.exit("usage: python -m bench.summarize RUN.json [RUN.json ...]")
    reports = [orjson.loads(p.read_bytes()) for p in paths]
    rows = summarize(reports)
    columns = ["backend", "workload", "runs", *FIGURES, "target", "met"]
    print(table(rows, columns))


if __name__ == "__main__":
    main()
