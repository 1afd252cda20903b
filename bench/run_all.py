"""Run the benchmarks: ``python -m bench.run_all [--quick] [--backend ...] [--workload ...]``.

For each backend: make a throwaway database, seed partners with many instances, start
``fleetgate serve`` as its own process on 127.0.0.1, run the workloads against it, print
Markdown tables, and remove the database again. The ``fleet`` workload then does the same
with a database of its own and a server with the runner on.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from bench import console_list, instance_api, media, webhooks, workloads, zapi
from bench.backends import BACKENDS, database
from bench.boot import fleet_boot
from bench.fleet import InstanceSet, SeededInstance, seed_sets
from bench.http1 import CLIENTS
from bench.plan import (
    DEFAULT_SIZES,
    FULL,
    QUICK,
    QUICK_SIZES,
    SERVER_WORKLOADS,
    WORKLOADS,
    Plan,
)
from bench.profiling import SpyRecorder, describe, hot_spots
from bench.receiver import Receiver
from bench.report import TABLES, machine, table, write_json
from bench.seed import SeededPartner, seed_database
from bench.server import ServerProcess
from bench.stats import Figure, Run
from fleetgate.context import Context
from fleetgate.settings import Settings

# The instance sets of the instance-API and webhook workloads (id prefixes 2001..2004; the
# listing partners use 1102 and 1103, createInstance 1101, the console's 1201, the fleet 3001).
_API, _POLL, _PUSH, _REBOOT = "api", "poll", "push", "reboot"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.run_all", description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=(*BACKENDS, "all"), default="all")
    p.add_argument(
        "--workload",
        choices=(*WORKLOADS, "all"),
        action="append",
        help="repeatable; default all (health always runs with any but fleet: it is the "
        "ratio's base)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="short runs: 10,000-instance listing only, smaller counts, a 2,000-instance fleet",
    )
    p.add_argument(
        "--sizes",
        type=lambda s: tuple(int(x) for x in s.split(",")),
        help="getInstances sizes, comma-separated (default 10000,100000; quick 10000)",
    )
    p.add_argument(
        "--fleet-size",
        type=int,
        help="authorized instances the fleet workload boots (default 10000; quick 2000)",
    )
    p.add_argument(
        "--media-store",
        choices=(*media.STORES, "all"),
        default="local",
        help="media store(s) of the media workload (s3: moto's server on 127.0.0.1)",
    )
    p.add_argument("--client", choices=CLIENTS, default="lean", help="load driver's HTTP client")
    p.add_argument(
        "--runner",
        choices=("off", "on"),
        default="off",
        help="run the server's runner and delivery worker too (on: figures taken while the "
        "runner takes over the seeded instances; default off, an API-only process whose "
        "delivery worker is on only for the webhook workloads)",
    )
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    p.add_argument(
        "--profile", type=Path, metavar="DIR", help="sample the server with py-spy into DIR"
    )
    return p.parse_args(argv)


@dataclass(frozen=True, slots=True)
class _Main:
    """The main server of one backend and what its workloads need."""

    backend: str
    server: ServerProcess
    receiver: Receiver | None
    ctx: Context
    by_size: dict[int, SeededPartner]
    sets: dict[str, list[SeededInstance]]
    console: SeededPartner | None


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
            if self.workloads & set(SERVER_WORKLOADS):
                await self._main(backend, work / "main")
            if "fleet" in self.workloads:
                size = self.args.fleet_size or self.plan.fleet
                _say(f"[{backend}] fleet: seeding {size:,} authorized instances, then booting")
                run = await fleet_boot(
                    backend,
                    work / "fleet",
                    size=size,
                    # Bigger fleets than planned get proportionally longer.
                    timeout_s=self.plan.fleet_timeout_s * max(1.0, size / self.plan.fleet),
                    settle_s=self.plan.settle_s,
                    profile=self.args.profile,
                )
                self._report_errors(backend, "fleet", run)
                self.rows.append(run.row(None))
            if "media" in self.workloads:
                store = self.args.media_store
                for name in media.STORES if store == "all" else (store,):
                    _say(f"[{backend}] media ({name}) ...")
                    runs = await media.media_bench(
                        backend, work / f"media-{name}", store=name, repeats=self.plan.media_rounds
                    )
                    self.rows += [r.row(None) for r in runs]

    async def _main(self, backend: str, work: Path) -> None:
        """The workloads that share one server: health, partner API, instance API, webhooks."""
        work.mkdir(parents=True)
        with ExitStack() as stack:
            receiver = None
            if "webhook" in self.workloads:
                receiver = stack.enter_context(Receiver(work / "receiver.log"))
            async with database(backend, work) as url:
                settings = Settings(data_dir=work, database_url=url)
                listed = self.workloads & {"list", "zapi"}
                sizes = list(self.sizes) if listed else []
                began = time.perf_counter()
                seeded = await seed_database(settings, sizes)
                sets = await seed_sets(settings, "bench-instances", self._sets(receiver))
                console = None
                if "console" in self.workloads:
                    size = self.plan.console_instances
                    console = await console_list.seed_console(settings, size)
                n = (
                    sum(sizes)
                    + sum(len(v) for v in sets.values())
                    + (console.instances if console else 0)
                )
                _say(f"[{backend}] seeded {n:,} instances in {time.perf_counter() - began:.1f} s")
                log = work / "server.log"
                runner = self.args.runner == "on"
                server = ServerProcess(
                    data_dir=work,
                    database_url=url,
                    log_path=log,
                    runner=runner,
                    delivery=runner or receiver is not None,
                )
                # The bench's own handle on the database, to queue notifications directly.
                ctx = Context.from_settings(settings)
                try:
                    server.start()
                    main = _Main(backend, server, receiver, ctx, seeded.by_size, sets, console)
                    await self._workloads(main, seeded.creator)
                except Exception:
                    _say(f"--- end of the server's log ---\n{log.read_text()[-3000:]}")
                    raise
                finally:
                    server.stop()
                    await ctx.db.dispose()

    def _sets(self, receiver: Receiver | None) -> list[InstanceSet]:
        """The instances the chosen instance-API and webhook workloads need."""
        plan, chosen = self.plan, self.workloads
        specs = []
        if chosen & {"state", "send"}:
            specs.append(InstanceSet(_API, plan.instances, 2001))
        if "longpoll" in chosen:
            specs.append(
                InstanceSet(_POLL, plan.longpoll.events, 2002, authorized=True, state_webhook=True)
            )
        if receiver is not None:
            hook = receiver.hook_url
            specs.append(InstanceSet(_PUSH, plan.instances, 2003, webhook_url=hook))
            specs.append(
                InstanceSet(
                    _REBOOT,
                    plan.webhook_latency.events,
                    2004,
                    authorized=True,
                    webhook_url=hook,
                    state_webhook=True,
                )
            )
        return specs

    async def _workloads(self, main: _Main, creator: SeededPartner) -> None:
        client, plan, chosen = self.args.client, self.plan, self.workloads
        backend, server, sets = main.backend, main.server, main.sets
        steps: list[tuple[str, Callable[[], Awaitable[Run]]]] = []
        if "list" in chosen:
            steps += [
                (
                    f"list-{size}",
                    partial(
                        workloads.get_instances, server, client, plan.listing(size), backend, p
                    ),
                )
                for size, p in sorted(main.by_size.items())
            ]
        if "zapi" in chosen:
            biggest = main.by_size[max(main.by_size)]
            steps += [
                (
                    f"zapi-{kind}",
                    partial(
                        zapi.zapi_list,
                        server,
                        client,
                        plan.zapi,
                        backend,
                        biggest,
                        search=kind == "search",
                    ),
                )
                for kind in ("page", "search")
            ]
        if main.console is not None:
            steps += [
                (
                    f"console-{shape.slug}",
                    partial(
                        console_list.console_list,
                        server,
                        client,
                        plan.console,
                        backend,
                        main.console,
                        shape,
                    ),
                )
                for shape in console_list.shapes(main.console)
            ]
        if "create" in chosen:
            steps.append(
                (
                    "create",
                    partial(
                        workloads.create_instance, server, client, plan.create, backend, creator
                    ),
                )
            )
        if "state" in chosen:
            steps.append(
                (
                    "state",
                    partial(
                        instance_api.get_state, server, client, plan.state, backend, sets[_API]
                    ),
                )
            )
        if "send" in chosen:
            steps.append(
                (
                    "send",
                    partial(
                        instance_api.send_message, server, client, plan.send, backend, sets[_API]
                    ),
                )
            )
        if "longpoll" in chosen:
            steps.append(
                (
                    "longpoll",
                    partial(
                        instance_api.longpoll_wakeup,
                        server,
                        client,
                        plan.longpoll,
                        backend,
                        sets[_POLL],
                    ),
                )
            )
        if main.receiver is not None:
            steps += self._webhook_steps(main)
        # /health first: every other workload's ratio is taken against it.
        health = await self._step(
            backend,
            "health",
            server,
            partial(workloads.health, server, client, plan.health, backend),
        )
        runs = [await self._step(backend, slug, server, work) for slug, work in steps]
        if "health" in chosen:
            runs.append(health)
        self.rows += [r.row(health.rps) for r in runs]

    def _webhook_steps(self, main: _Main) -> list[tuple[str, Callable[[], Awaitable[Run]]]]:
        plan, receiver = self.plan, main.receiver
        assert receiver is not None
        steps: list[tuple[str, Callable[[], Awaitable[Run]]]] = [
            (
                "webhook-throughput",
                partial(
                    webhooks.delivery_throughput,
                    main.server,
                    receiver,
                    main.ctx,
                    main.backend,
                    main.sets[_PUSH],
                    count=plan.notifications,
                    drain_s=plan.drain_s,
                ),
            ),
            (
                "webhook-latency-api",
                partial(
                    webhooks.event_to_post_api,
                    main.server,
                    receiver,
                    self.args.client,
                    main.backend,
                    plan.webhook_latency,
                    main.sets[_REBOOT],
                ),
            ),
        ]
        # On SQLite another process's notification is only seen on the worker's poll (one
        # process serves SQLite, so that path does not occur in a real deployment).
        if not main.ctx.db.is_sqlite:
            steps.append(
                (
                    "webhook-latency-emit",
                    partial(
                        webhooks.event_to_post_emit,
                        main.server,
                        receiver,
                        main.ctx,
                        main.backend,
                        plan.webhook_latency,
                        main.sets[_PUSH],
                    ),
                )
            )
        return steps

    async def _step(
        self, backend: str, slug: str, server: ServerProcess, work: Callable[[], Awaitable[Run]]
    ) -> Run:
        _say(f"[{backend}] {slug} ...")
        with self._profiled(backend, slug, server.pid):
            run = await work()
        self._report_errors(backend, slug, run)
        return run

    def _report_errors(self, backend: str, slug: str, run: Run) -> None:
        if run.outcome.errors:
            _say(
                f"[{backend}] {slug}: {run.outcome.errors} errors, first: {run.outcome.first_error}"
            )

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
    for columns, markers in TABLES:
        rows = [r for r in bench.rows if any(c in r for c in markers)]
        if rows:
            print(table(rows, columns))
            print()
    if args.json is not None:
        notes: dict[str, Figure] = {
            "client": args.client,
            "runner": args.runner,
            "quick": "yes" if args.quick else "no",
            "fleet_size": args.fleet_size or bench.plan.fleet,
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
