"""Webhook delivery workloads: notifications per second, and event-to-POST latency.

The server runs its delivery worker; every instance involved has ``webhookUrl`` pointing at
``bench.receiver`` (a process of its own), which records when each POST arrived.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

from sqlalchemy import Table, delete, insert

from bench.driver import Outcome
from bench.fleet import SeededInstance
from bench.http1 import Connection, connect
from bench.plan import Paced
from bench.receiver import Receiver, Record
from bench.server import ServerProcess
from bench.stats import AllOf, Figure, Run, Target, percentile
from bench.workloads import Busy, expect
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.services import outbox
from fleetgate.services.instances import TYPE_WHATSAPP
from fleetgate.storage.tables import NotificationRow

THROUGHPUT_TARGET = Target("req_per_s", 2000, at_least=True)
LATENCY_TARGET = AllOf((Target("p50_ms", 10), Target("p99_ms", 100)))
_NOTIFICATIONS: Table = NotificationRow.__table__  # type: ignore[assignment]
_STATE = "stateInstanceChanged"
# Connections the paced API-path driver may use at once (a slow answer must not delay the pace).
_SENDERS = 16
# How long to wait for the last POSTs after the last event.
_TAIL_S = 10.0


def _body(id_instance: int, fields: str) -> str:
    """A stateInstanceChanged body as ``services.outbox.emit`` writes it, plus bench fields."""
    return (
        f'{{"typeWebhook":"{_STATE}","instanceData":{{"idInstance":{id_instance},"wid":"",'
        f'"typeInstance":"{TYPE_WHATSAPP}"}},"timestamp":{now_ms() // 1000},{fields}}}'
    )


async def delivery_throughput(
    server: ServerProcess,
    receiver: Receiver,
    ctx: Context,
    backend: str,
    instances: Sequence[SeededInstance],
    *,
    count: int,
    drain_s: float,
) -> Run:
    """Queue ``count`` notifications round-robin over the instances in one transaction, then
    time the worker draining them: rate = POSTs per second from the first to the last."""
    await receiver.reset()
    now = now_ms()
    rows = [
        {
            "id_instance": (iid := instances[seq % len(instances)].id_instance),
            "type_webhook": _STATE,
            "body": _body(iid, f'"stateInstance":"authorized","seq":{seq}'),
            "created_ms": now,
        }
        for seq in range(count)
    ]
    async with ctx.db.transaction() as session:
        await session.execute(insert(_NOTIFICATIONS), rows)
        # Reaches the server on PostgreSQL (NOTIFY); on SQLite the worker finds them on its poll.
        await ctx.signals.send(session, outbox.CHANNEL, str(instances[0].id_instance))
    committed = time.monotonic()
    busy = Busy(server, {"receiver": receiver.cpu_seconds})
    await receiver.wait_for(count, drain_s, poll_s=0.1)
    usage = busy.figures(time.monotonic() - committed)
    left = await _drop_pending(ctx, instances)
    records = sorted(await receiver.records())
    arrivals = [r[0] for r in records]
    span = arrivals[-1] - arrivals[0] if len(arrivals) > 1 else 0.0
    seqs = [r[5] for r in records if r[5] is not None]
    distinct = len(set(seqs))
    extra: dict[str, Figure] = {
        "delivered": distinct,
        "left": left,
        "dupes": len(seqs) - distinct,
        "out_of_order": _out_of_order(records),
        "first_ms": round((arrivals[0] - committed) * 1000, 1) if arrivals else "",
        "drain_s": round(arrivals[-1] - committed, 2) if arrivals else "",
    } | usage
    return Run(
        f"webhook delivery ({count:,} over {len(instances)} instances)",
        backend,
        len(instances),
        # Not all delivered within drain_s is no error: the rate is taken over what arrived.
        Outcome(elapsed=span),
        THROUGHPUT_TARGET,
        extra,
        rate=(len(arrivals) - 1) / span if span > 0 else 0.0,
    )


async def _drop_pending(ctx: Context, instances: Sequence[SeededInstance]) -> int:
    """Delete what is still queued, so that later workloads start with an idle worker; how
    many there were. Deliveries in flight then find their row gone, which the worker takes."""
    ids = [i.id_instance for i in instances]
    async with ctx.db.transaction() as session:
        result = await session.execute(
            delete(NotificationRow).where(NotificationRow.id_instance.in_(ids))
        )
    await asyncio.sleep(1.0)  # let deliveries in flight finish
    return int(result.rowcount)  # type: ignore[attr-defined]


def _out_of_order(records: list[Record]) -> int:
    """POSTs that arrived before an earlier notification of the same instance (FIFO broken)."""
    last: dict[int, int] = defaultdict(lambda: -1)
    wrong = 0
    for _arrived, id_instance, _type, _state, _t0, seq in records:
        if seq is None:
            continue
        if seq < last[id_instance]:
            wrong += 1
        last[id_instance] = max(last[id_instance], seq)
    return wrong


async def event_to_post_api(
    server: ServerProcess,
    receiver: Receiver,
    client: str,
    backend: str,
    paced: Paced,
    instances: Sequence[SeededInstance],
) -> Run:
    """GET reboot of one authorized instance after another (stateWebhook on) at a steady pace.
    Latency: from sending the reboot to its stateInstanceChanged "starting" arriving."""
    await receiver.reset()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(_SENDERS):
        pool.put_nowait(connect(client, server.url))
    sent: dict[int, float] = {}
    failures: list[str] = []

    async def reboot(instance: SeededInstance) -> None:
        conn = await pool.get()
        try:
            t0 = time.monotonic()
            expect(await conn.request("GET", instance.path("reboot")), 200, b'{"isReboot":true')
            sent[instance.id_instance] = t0
        except Exception as exc:
            failures.append(f"reboot: {exc}")
        finally:
            pool.put_nowait(conn)

    busy = Busy(server, {"receiver": receiver.cpu_seconds})
    start = time.monotonic()
    tasks = []
    for n, instance in enumerate(instances[: paced.events]):
        await asyncio.sleep(max(0.0, start + n / paced.rate - time.monotonic()))
        tasks.append(asyncio.create_task(reboot(instance)))
    await asyncio.gather(*tasks)
    elapsed = time.monotonic() - start
    await receiver.wait_for(len(sent), _TAIL_S)
    usage = busy.figures(time.monotonic() - start)
    while not pool.empty():
        await pool.get_nowait().close()
    arrived: dict[int, float] = {}
    for at, id_instance, type_webhook, state, _t0, _seq in await receiver.records():
        if type_webhook == _STATE and state == "starting":
            arrived.setdefault(id_instance, at)
    latencies = [arrived[i] - t0 for i, t0 in sent.items() if i in arrived]
    return _latency_run(
        "event-to-POST, API (reboot)",
        backend,
        _SENDERS,
        latencies,
        elapsed,
        len(sent),
        failures,
        usage,
    )


async def event_to_post_emit(
    server: ServerProcess,
    receiver: Receiver,
    ctx: Context,
    backend: str,
    paced: Paced,
    instances: Sequence[SeededInstance],
) -> Run:
    """``services.outbox.emit`` from this process at a steady pace, as another fleetgate process
    (a runner node) would queue events; the body carries ``t0``. Latency: ``t0`` (before the
    transaction) to the POST arriving. Only PostgreSQL wakes the server's worker (NOTIFY)."""
    views = [await _view(ctx, i.id_instance) for i in instances]
    await receiver.reset()
    busy = Busy(server, {"receiver": receiver.cpu_seconds})
    commits: list[float] = []
    start = time.monotonic()
    for n in range(paced.events):
        await asyncio.sleep(max(0.0, start + n / paced.rate - time.monotonic()))
        t0 = time.monotonic()
        async with ctx.db.transaction() as session:
            await outbox.emit(
                session=session,
                signals=ctx.signals,
                instance=views[n % len(views)],
                type_webhook=_STATE,
                fields={"stateInstance": "authorized", "t0": t0},
            )
        commits.append(time.monotonic() - t0)
    elapsed = time.monotonic() - start
    await receiver.wait_for(paced.events, _TAIL_S)
    usage = busy.figures(time.monotonic() - start)
    latencies = [at - t0 for at, *_, t0, _seq in await receiver.records() if t0 is not None]
    usage["emit_p50_ms"] = round(percentile(sorted(commits), 50) * 1000, 1)
    return _latency_run(
        "event-to-POST, emit (other process)",
        backend,
        1,
        latencies,
        elapsed,
        paced.events,
        [],
        usage,
    )


def _latency_run(
    name: str,
    backend: str,
    connections: int,
    latencies: list[float],
    elapsed: float,
    events: int,
    failures: list[str],
    extra: dict[str, Figure],
) -> Run:
    missing = events - len(latencies)
    outcome = Outcome(
        latencies=latencies,
        elapsed=elapsed,
        errors=len(failures) + missing,
        first_error=failures[0] if failures else (f"{missing} never arrived" if missing else None),
    )
    return Run(name, backend, connections, outcome, LATENCY_TARGET, extra, ratio=False)


async def _view(ctx: Context, id_instance: int) -> InstanceView:
    """The instance as emit sees it, with stateWebhook on whatever the seed left."""
    found = await ctx.instance_cache.live(id_instance)
    assert found is not None, f"seeded instance {id_instance} is not live"
    view = found[0]
    return replace(view, switches=view.switches | {"state_webhook": True})
