"""Benchmark figures as Markdown tables (pasteable into docs/benchmarks.md) and as JSON."""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from pathlib import Path

import orjson

from bench.stats import Figure

# The tables a run prints: what a client sees, and what it cost the server.
LATENCY_COLUMNS = (
    "backend",
    "workload",
    "conc",
    "requests",
    "errors",
    "p50_ms",
    "p90_ms",
    "p99_ms",
    "req_per_s",
    "vs_health",
    "target",
    "met",
)
RESOURCE_COLUMNS = (
    "backend",
    "workload",
    "server_cpu_%",
    "driver_cpu_%",
    "receiver_cpu_%",
    "machine_cpu_%",
    "ttfb_p50_ms",
    "MB_per_resp",
    "rss_before_MiB",
    "rss_peak_MiB",
    "rss_after_MiB",
)

# Events: webhook deliveries and long-poll wake-ups.
EVENT_COLUMNS = (
    "backend",
    "workload",
    "delivered",
    "left",
    "dupes",
    "out_of_order",
    "first_ms",
    "drain_s",
    "emit_p50_ms",
    "reboot_p50_ms",
    "parked",
)
# The fleet boot: times from the process start, and memory.
BOOT_COLUMNS = (
    "backend",
    "workload",
    "instances",
    "seed_s",
    "health_s",
    "owned_s",
    "ready_s",
    "boot_cpu_%",
    "rss_ready_MiB",
    "rss_peak_MiB",
    "rss_settled_MiB",
    "idle_cpu_%",
)
# Files and media: 100 MB transfers, their rate against a plain disk write, server memory.
MEDIA_COLUMNS = (
    "backend",
    "workload",
    "rounds",
    "MB_per_s",
    "vs_disk",
    "server_cpu_%",
    "machine_cpu_%",
    "rss_base_MiB",
    "rss_peak_MiB",
    "rss_growth_MiB",
    "rss_growth_max_MiB",
    "rss_after_MiB",
    "target",
    "met",
)
# A run prints each table with the rows that have any of its marker columns.
TABLES: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (LATENCY_COLUMNS, ("conc",)),
    (RESOURCE_COLUMNS, ("server_cpu_%", "rss_peak_MiB")),
    (EVENT_COLUMNS, ("delivered", "parked", "emit_p50_ms")),
    (BOOT_COLUMNS, ("ready_s", "owned_s", "health_s")),
    (MEDIA_COLUMNS, ("MB_per_s",)),
)


def table(rows: Sequence[dict[str, Figure]], columns: Sequence[str]) -> str:
    """A Markdown table of these columns (those no row has are left out)."""
    shown = [c for c in columns if any(c in r for r in rows)]
    lines = ["| " + " | ".join(shown) + " |", "|" + "|".join("---" for _ in shown) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(_cell(row.get(c, "")) for c in shown) + " |")
    return "\n".join(lines)


def _cell(value: Figure) -> str:
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".") if abs(value) < 1 else f"{value:,.1f}"
    if isinstance(value, int):
        return f"{value:,}"
    return value


def machine() -> dict[str, Figure]:
    """What the figures were measured on."""
    mem_kib = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kib = int(line.split()[1])
    return {
        "cpus": os.cpu_count() or 0,
        "cpu_model": _cpu_model(),
        "memory_GiB": round(mem_kib / 1024 / 1024, 1),
        "python": platform.python_version(),
        "kernel": platform.release(),
    }


def _cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def write_json(path: Path, rows: Sequence[dict[str, Figure]], notes: dict[str, Figure]) -> None:
    """Every row plus the machine and run notes, for later comparison."""
    data = {"machine": machine(), "run": notes, "results": list(rows)}
    path.write_bytes(orjson.dumps(data, option=orjson.OPT_INDENT_2))
