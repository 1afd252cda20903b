"""Many authorized sandbox instances in one process: boot-to-ready time and memory.

A fresh database holds only the fleet: N instances linked to virtual phones, as a restart
finds them (state authorized, engine credentials saved, nobody owning them). ``fleetgate
serve`` starts with the runner and the delivery worker on, as a plain ``serve`` runs. Times
count from the process start:

- *health*: ``/health`` answers (the lifespan has run the runner's first pass);
- *owned*: no instance is left without a runner (the database is polled every 0.2 s);
- *ready*: after that, engine calls (checkWhatsapp) on a few instances are answered. The
  runner answers calls only for sessions it runs, and only between passes, so an answer
  means the pass that took the last instances has started their sessions too.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select

from bench.backends import database
from bench.driver import Outcome
from bench.fleet import InstanceSet, SeededInstance, seed_sets
from bench.http1 import HttpError, connect
from bench.profiling import SpyRecorder, describe, hot_spots
from bench.server import ServerProcess
from bench.stats import AllOf, Figure, Run, Target
from bench.workloads import Busy
from fleetgate.context import Context
from fleetgate.settings import Settings
from fleetgate.storage.tables import InstanceRow

BOOT_TARGET = AllOf((Target("ready_s", 30), Target("rss_peak_MiB", 1024)))
_FLEET_PREFIX = 3001
_PROBES = 5
_POLL_S = 0.2


async def fleet_boot(
    backend: str,
    work: Path,
    *,
    size: int,
    timeout_s: float,
    settle_s: float,
    profile: Path | None = None,
) -> Run:
    """Seed ``size`` authorized instances, start ``serve`` with the runner, time it to ready."""
    work.mkdir(parents=True, exist_ok=True)
    async with database(backend, work) as url:
        settings = Settings(data_dir=work, database_url=url)
        ctx = Context.from_settings(settings)
        try:
            began = time.perf_counter()
            await ctx.db.migrate()
            spec = InstanceSet("fleet", size, _FLEET_PREFIX, authorized=True)
            fleet = (await seed_sets(settings, "bench-fleet", [spec]))["fleet"]
            seed_s = time.perf_counter() - began
            server = ServerProcess(
                data_dir=work, database_url=url, log_path=work / "server.log", runner=True
            )
            try:
                return await _boot(
                    backend, ctx, server, fleet, timeout_s, settle_s, profile, seed_s
                )
            except Exception:
                print((work / "server.log").read_text()[-3000:], file=sys.stderr)
                raise
            finally:
                stopping = time.monotonic()
                server.stop()
                print(
                    f"[{backend}] fleet server stopped in {time.monotonic() - stopping:.1f} s",
                    file=sys.stderr,
                )
        finally:
            await ctx.db.dispose()


async def _boot(
    backend: str,
    ctx: Context,
    server: ServerProcess,
    fleet: Sequence[SeededInstance],
    timeout_s: float,
    settle_s: float,
    profile: Path | None,
    seed_s: float,
) -> Run:
    launched = time.monotonic()
    server.launch()
    deadline = launched + timeout_s
    marks: dict[str, Figure] = {"seed_s": round(seed_s, 1)}
    with _spy(server, profile, f"{backend}-fleet"):
        while "owned_s" not in marks and time.monotonic() < deadline:
            if "health_s" not in marks and server.healthy():
                marks["health_s"] = round(time.monotonic() - launched, 2)
            if "health_s" in marks and await _unowned(ctx) == 0:
                marks["owned_s"] = round(time.monotonic() - launched, 2)
            await asyncio.sleep(_POLL_S)
        probes = [*fleet[-3:], *random.sample(list(fleet), min(_PROBES - 3, len(fleet)))]
        answered = await asyncio.gather(*(_probe(server.url, p, deadline) for p in probes))
    ready = time.monotonic() - launched
    ok = "owned_s" in marks and all(answered)
    if ok:
        marks["ready_s"] = round(ready, 2)
    # Average over the boot: near 100 means the boot is bound by the server's one core.
    marks["boot_cpu_%"] = round(server.cpu_seconds() / ready * 100)
    marks["rss_ready_MiB"] = round(server.rss_mib())
    busy = Busy(server)
    await asyncio.sleep(settle_s)
    idle = busy.figures(settle_s)
    marks |= {
        "rss_settled_MiB": round(server.rss_mib()),
        "rss_peak_MiB": round(server.peak_rss_mib()),
        "idle_cpu_%": idle["server_cpu_%"],
    }
    outcome = Outcome(
        elapsed=ready,
        errors=0 if ok else 1,
        first_error=None if ok else f"not ready within {timeout_s:g} s",
    )
    return Run(
        f"boot {len(fleet):,} authorized (runner on)",
        backend,
        len(fleet),
        outcome,
        BOOT_TARGET,
        {"instances": len(fleet)} | marks,
        rate=len(fleet) / ready if ok else 0.0,
        ratio=False,
    )


async def _unowned(ctx: Context) -> int:
    async with ctx.db.reading() as session:
        stmt = select(func.count()).where(InstanceRow.runner_id.is_(None))
        return int(await session.scalar(stmt) or 0)


async def _probe(base_url: str, instance: SeededInstance, deadline: float) -> bool:
    """checkWhatsapp until the runner answers it (True) or the deadline passes (False)."""
    conn = connect("lean", base_url, timeout=30)
    body = b'{"phoneNumber": 79990000000}'
    try:
        while time.monotonic() < deadline:
            try:
                resp = await conn.request("POST", instance.path("checkWhatsapp"), body)
            except HttpError:
                resp = None
            if resp is not None and resp.status == 200 and b"existsWhatsapp" in resp.body:
                return True
            await asyncio.sleep(_POLL_S)
        return False
    finally:
        await conn.close()


@contextmanager
def _spy(server: ServerProcess, folder: Path | None, slug: str) -> Iterator[None]:
    if folder is None:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{slug}.txt"
    with SpyRecorder(server.pid, out):
        yield
    if out.exists():
        print(f"\n### Hot spots: {slug} ({out})\n\n{describe(hot_spots(out))}\n")
