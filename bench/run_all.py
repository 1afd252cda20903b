"""Run the partner-API benchmarks: ``python -m bench.run_all [--quick] [--backend ...]``.

For each backend: make a throwaway database, seed partners with many instances, start
``fleetgate serve`` as its own process on 127.0.0.1, run the workloads against it, print
Markdown tables, and remove the database again.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

from bench import workloads
from bench.backends import BACKENDS, database
from bench.http1 import CLIENTS
from bench.plan import DEFAULT_SIZES, FULL, QUICK, QUICK_SIZES, WORKLOADS, Plan
from bench.profiling import SpyRecorder, describe, hot_spots
from bench.report import LATENCY_COLUMNS, RESOURCE_COLUMNS, machine, table, write_json
from bench.seed import SeededPartner, seed_database
from bench.server import ServerProcess
from bench.stats import Figure, Run
from fleetgate.settings import Settings


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    p.add_argument(
        "--workload",
        choices=(*WORKLOADS, "all"),
        action="append",
        help="repeatable; default all (health always runs: it is the ratio's base)",
    )
    p.add_argument("--quick", action="store_true", help="short runs, 10,000-instance listing only")
    p.add_argument(
        "--sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="getInstances sizes, comma-separated (default 10000,100000; quick 10000)",
    )
    p.add_argument("--client", choices=CLIENTS, default="lean", help="load driver's HTTP client")
    p.add_argument(
        "--runner",
        choices=("off", "on"),
        default="off",
        help="run the server's runner and delivery worker too (on: figures taken while the "
        "runner takes over the seeded instances; default off, an API-only process)",
    )
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    p.add_argument(
        "--profile", type=Path, metavar="DIR", help="sample the server with py-spy into DIR"
    )
    return p.parse_args(argv)


class Bench:
    """One invocation: its options, and the runs gathered so far."""

    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.plan: Plan = QUICK if args.quick else FULL
        chosen = set(args.workload or ["all"])
        self.workloads = set(WORKLOADS) if "all" in chosen else chosen
        self.sizes: tuple[int, ...] = args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES)
        self.rows: list[dict[str, Figure]] = []

    async def backend(self, backend: str) -> None:
        with tempfile.TemporaryDirectory(prefix=f"fleetgate-bench-{backend}-") as tmp:
            work = Path(tmp)
            async with database(backend, work) as url:
                settings = Settings(data_dir=work, database_url=url)
                sizes = list(self.sizes) if "list" in self.workloads else []
                seeded = await seed_database(settings, sizes)
                _say(f"[{backend}] seeded {sum(sizes):,} instances in {seeded.seconds:.1f} s")
                log = work / "server.log"
                server = ServerProcess(
                    data_dir=work, database_url=url, log_path=log, runner=self.args.runner == "on"
                )
                try:
                    server.start()
                    await self._workloads(backend, server, seeded.by_size, seeded.creator)
                except Exception:
                    _say(f"--- end of the server's log ---\n{log.read_text()[-3000:]}")
                    raise
                finally:
                    server.stop()

    async def _workloads(
        self,
        backend: str,
        server: ServerProcess,
        seeded: dict[int, SeededPartner],
        creator: SeededPartner,
    ) -> None:
        client, plan = self.args.client, self.plan
        steps: list[tuple[str, Callable[[], Awaitable[Run]]]] = []
        if "list" in self.workloads:
            steps += [
                (
                    f"list-{size}",
                    partial(
                        workloads.get_instances, server, client, plan.listing(size), backend, p
                    ),
                )
                for size, p in sorted(seeded.items())
            ]
        if "create" in self.workloads:
            steps.append(
                (
                    "create",
                    partial(
                        workloads.create_instance, server, client, plan.create, backend, creator
                    ),
                )
            )
        # /health first: every other workload's ratio is taken against it.
        health = await self._step(
            backend,
            "health",
            server,
            partial(workloads.health, server, client, plan.health, backend),
        )
        runs = [await self._step(backend, slug, server, work) for slug, work in steps]
        if "health" in self.workloads:
            runs.append(health)
        self.rows += [r.row(health.rps) for r in runs]

    async def _step(
        self, backend: str, slug: str, server: ServerProcess, work: Callable[[], Awaitable[Run]]
    ) -> Run:
        _say(f"[{backend}] {slug} ...")
        with self._profiled(backend, slug, server.pid):
            run = await work()
        if run.outcome.errors:
            _say(
                f"[{backend}] {slug}: {run.outcome.errors} errors, first: {run.outcome.first_error}"
            )
        return run

    @contextmanager
    def _profiled(self, backend: str, slug: str, pid: int) -> Iterator[None]:
        folder: Path | None = self.args.profile
        if folder is None:
            yield
            return
        folder.mkdir(parents=True, exist_ok=True)
        out = folder / f"{backend}-{slug}.txt"
        with SpyRecorder(pid, out):
            yield
        if out.exists():
            print(f"\n### Hot spots: {backend} {slug} ({out})\n\n{describe(hot_spots(out))}\n")


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def _main(args: argparse.Namespace) -> None:
    bench = Bench(args)
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    began = time.perf_counter()
    for backend in backends:
        await bench.backend(backend)
    spec = machine()
    print("\nMachine: " + ", ".join(f"{k} {v}" for k, v in spec.items()))
    print(
        f"Client: {args.client}; runner {args.runner}; {'quick' if args.quick else 'full'} run, "
        f"{time.perf_counter() - began:.0f} s\n"
    )
    print(table(bench.rows, LATENCY_COLUMNS))
    print()
    print(table(bench.rows, RESOURCE_COLUMNS))
    if args.json is not None:
        notes: dict[str, Figure] = {
            "client": args.client,
            "runner": args.runner,
            "quick": "yes" if args.quick else "no",
        }
        write_json(args.json, bench.rows, notes)


def _run(main: Coroutine[Any, Any, None]) -> None:
    try:
        import uvloop
    except ImportError:  # uvloop comes with uvicorn[standard], but not on every platform
        asyncio.run(main)
    else:
        uvloop.run(main)  # the driver's own overhead is lower on it


def main(argv: list[str] | None = None) -> None:
    try:
        _run(_main(_args(argv)))
    except RuntimeError as exc:
        sys.exit(f"bench: {exc}")


if __name__ == "__main__":
    main()
