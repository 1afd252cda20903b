"""`fleetgate serve --role`: split roles on one PostgreSQL survive SIGKILLed workers.

Two API processes, two runners and two delivery workers share one database. Traffic goes in
through the API processes while one runner and one delivery worker are killed (SIGKILL) in the
middle of it: every accepted message is sent exactly once, in order per sender, and every
notification reaches the webhook receiver at least once.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from fleetgate.clock import now_ms
from fleetgate.storage.db import Database
from fleetgate.storage.tables import (
    InstanceRow,
    MessageRow,
    NotificationRow,
    RunnerRow,
    SandboxEventRow,
)
from tests.processes import STOP_TIMEOUT, Cli, Served, base_env, words
from tests.receiver import Receiver, running_receiver
from tests.support import Instance, authorize, fresh_database

INSTANCES = 6
MESSAGES = 60
WALL_LIMIT_S = 90.0
FAST = {
    "FLEETGATE_RUNNER__TICK_S": "0.2",
    "FLEETGATE_RUNNER__LEASE_TTL_S": "2",
    "FLEETGATE_DELIVERY__POLL_S": "0.2",
    "FLEETGATE_DELIVERY__PAUSE_S": "0.2",
    "FLEETGATE_DELIVERY__TIMEOUT_S": "5",
    "FLEETGATE_DELIVERY__CLAIM_HOLD_S": "2",
    "FLEETGATE_RATELIMITS__ENABLED": "false",
}
SWITCHES = ("outgoingWebhook", "outgoingAPIMessageWebhook", "incomingWebhook", "stateWebhook")
# A notification as the test tells them apart: (idInstance, typeWebhook, idMessage, status).
Key = tuple[int, str, str, str]


def _phone(n: int) -> str:
    return f"7900555{n:04d}"


def _pid(worker_id: str | None) -> int | None:
    """The pid in a runner's or delivery worker's id (``host:pid:random``)."""
    return int(worker_id.split(":")[-2]) if worker_id else None


@pytest.mark.parametrize("role", ["api", "runner", "delivery"])
def test_split_roles_are_refused_on_sqlite(role: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    cli = Cli("sqlite", data_dir, base_env(data_dir))
    r = cli.run("serve", "--role", role)
    assert r.returncode == 2, r
    assert f"--role {role} needs PostgreSQL" in words(r.stderr), r.stderr
    assert "a SQLite deployment is one process" in words(r.stderr), r.stderr
    assert not data_dir.exists()  # refused before anything was created


@dataclass
class Traffic:
    """What the test sent and what it must see come out."""

    instances: list[Instance]
    accepted: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # id -> s, r, text
    refused: int = 0

    def expected_keys(self) -> set[Key]:
        keys: set[Key] = set()
        for id_message, (s, r, _) in self.accepted.items():
            sender, recipient = self.instances[s].id, self.instances[r].id
            keys |= {
                (sender, "outgoingAPIMessageReceived", id_message, ""),
                (sender, "outgoingMessageStatus", id_message, "sent"),
                (sender, "outgoingMessageStatus", id_message, "delivered"),
                (recipient, "incomingMessageReceived", id_message, ""),
            }
        return keys


def _key(body: dict[str, object]) -> Key:
    data = body["instanceData"]
    assert isinstance(data, dict)
    return (
        int(data["idInstance"]),
        str(body["typeWebhook"]),
        str(body.get("idMessage", "")),
        str(body.get("status", "")),
    )


def _received(receiver: Receiver) -> list[Key]:
    return [_key(r.body) for r in receiver.of("roles")]


class Probe:
    """Reads the shared database behind the processes' backs."""

    def __init__(self, url: str) -> None:
        self.db = Database(url)

    async def owners(self) -> dict[int, int | None]:
        async with self.db.reading() as session:
            rows = await session.execute(select(InstanceRow.id_instance, InstanceRow.runner_id))
            return {r.id_instance: _pid(r.runner_id) for r in rows}

    async def runners(self) -> int:
        async with self.db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(RunnerRow)) or 0)

    async def claims(self) -> Counter[int | None]:
        """Notifications each delivery worker (by pid) holds right now."""
        async with self.db.reading() as session:
            held = await session.scalars(
                select(NotificationRow.claimed_by).where(
                    NotificationRow.claimed_by.is_not(None),
                    NotificationRow.claimed_until_ms > now_ms(),
                )
            )
            return Counter(_pid(w) for w in held)

    async def notifications_left(self) -> int:
        async with self.db.reading() as session:
            stmt = select(func.count()).select_from(NotificationRow)
            return int(await session.scalar(stmt) or 0)

    async def sent(self) -> list[tuple[str, str, str]]:
        """Every message the sandbox network carried: (from phone, idMessage, text), in order."""
        async with self.db.reading() as session:
            rows = await session.execute(
                select(
                    SandboxEventRow.from_phone, SandboxEventRow.id_message, SandboxEventRow.payload
                )
                .where(SandboxEventRow.kind == "message")
                .order_by(SandboxEventRow.id)
            )
            return [
                (
                    r.from_phone,
                    r.id_message,
                    orjson.loads(r.payload)["messageData"]["textMessageData"]["textMessage"],
                )
                for r in rows
            ]

    async def still_queued(self) -> int:
        async with self.db.reading() as session:
            stmt = select(func.count()).where(MessageRow.queued.is_(True))
            return int(await session.scalar(stmt) or 0)

    async def dispose(self) -> None:
        await self.db.dispose()


async def _poll(what: str, check: Callable[[], Awaitable[bool]], timeout: float) -> None:
    """Await ``check()`` until it is true, or fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"no {what} within {timeout} s")


@dataclass
class Fleet:
    apis: list[Served]
    runners: list[subprocess.Popen[bytes]]
    workers: list[subprocess.Popen[bytes]]


@contextmanager
def running_fleet(cli: Cli) -> Iterator[Fleet]:
    """Two processes of each role; the API processes answer /health when this yields."""
    with ExitStack() as stack:
        runners = [
            stack.enter_context(cli.background("serve", "--role", "runner", log_name=f"runner{n}"))
            for n in range(2)
        ]
        workers = [
            stack.enter_context(
                cli.background("serve", "--role", "delivery", log_name=f"delivery{n}")
            )
            for n in range(2)
        ]
        apis = [stack.enter_context(cli.serve(f"api{n}", args=("--role", "api"))) for n in range(2)]
        yield Fleet(apis, runners, workers)


async def _wait_ready(cli: Cli, probe: Probe) -> None:
    async def runners_registered() -> bool:
        return await probe.runners() == 2

    async def workers_running() -> bool:
        logs = [cli.data_dir.parent / f"delivery{n}.stderr" for n in range(2)]
        return all("delivery worker" in log.read_text() for log in logs)

    await _poll("two registered runners", runners_registered, 30)
    await _poll("two running delivery workers", workers_running, 30)


async def _create_and_link(fleet: Fleet, partner: str, receiver: Receiver) -> Traffic:
    """Instances with a webhook, created and linked to phones through both API processes."""
    body: dict[str, object] = {s: "yes" for s in SWITCHES}
    body |= {"webhookUrl": receiver.hook("roles"), "delaySendMessagesMilliseconds": 500}
    made: list[Instance] = []
    for n in range(INSTANCES):
        async with httpx.AsyncClient(base_url=fleet.apis[n % 2].url, timeout=30) as client:
            r = await client.post(f"/partner/createInstance/{partner}", json=body)
            assert r.status_code == 200, r.text
            made.append(Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], partner))

    async def link(n: int) -> None:
        async with httpx.AsyncClient(base_url=fleet.apis[n % 2].url, timeout=30) as client:
            await authorize(client, made[n], _phone(n))

    await asyncio.gather(*(link(n) for n in range(INSTANCES)))
    return Traffic(made)


async def _send(fleet: Fleet, traffic: Traffic, numbers: range) -> None:
    """Message n goes from instance n mod 6 to the next one's phone, through either API."""
    clients = [httpx.AsyncClient(base_url=api.url, timeout=30) for api in fleet.apis]
    try:
        for n in numbers:
            s, r = n % INSTANCES, (n + 1) % INSTANCES
            text = f"m{n:03}"
            answer = await clients[(n // INSTANCES) % 2].post(
                traffic.instances[s].url("sendMessage"),
                json={"chatId": f"{_phone(r)}@c.us", "message": text},
            )
            if answer.status_code == 200:
                traffic.accepted[answer.json()["idMessage"]] = (s, r, text)
            else:
                traffic.refused += 1
    finally:
        for client in clients:
            await client.aclose()


@dataclass(frozen=True)
class Killed:
    runner: subprocess.Popen[bytes]
    worker: subprocess.Popen[bytes]
    owned: int  # instances the runner owned when it died
    claims: int  # notifications the delivery worker held when it died


async def _kill_busy(fleet: Fleet, probe: Probe) -> Killed:
    """SIGKILL the runner owning the most instances and a delivery worker holding claims."""
    owned_by = Counter(pid for pid in (await probe.owners()).values() if pid)
    assert owned_by, "no runner owns an instance"
    runner = max(fleet.runners, key=lambda p: owned_by[p.pid])
    claims: Counter[int | None] = Counter()

    async def a_worker_holds_claims() -> bool:
        nonlocal claims
        claims = await probe.claims()
        return any(claims[w.pid] for w in fleet.workers)

    await _poll("delivery in flight", a_worker_holds_claims, 10)
    worker = max(fleet.workers, key=lambda p: claims[p.pid])
    for proc in (runner, worker):
        proc.send_signal(signal.SIGKILL)
    for proc in (runner, worker):
        proc.wait(timeout=STOP_TIMEOUT)
    return Killed(runner, worker, owned_by[runner.pid], claims[worker.pid])


def _stop_survivors(fleet: Fleet, killed: Killed) -> None:
    """SIGTERM the survivors (SIGINT for the delivery worker): each must exit 0."""
    stopping = [(api.proc, signal.SIGTERM) for api in fleet.apis]
    stopping += [(p, signal.SIGTERM) for p in fleet.runners if p is not killed.runner]
    stopping += [(p, signal.SIGINT) for p in fleet.workers if p is not killed.worker]
    for proc, sig in stopping:
        proc.send_signal(sig)
    for proc, sig in stopping:
        assert proc.wait(timeout=STOP_TIMEOUT) == 0, (proc.args, sig)


async def test_split_roles_lose_nothing_when_workers_are_killed(tmp_path: Path) -> None:
    # PostgreSQL only (fresh_database fails or skips as the environment requires): split
    # roles are several processes, and a SQLite deployment is one.
    backend = "postgres"
    started = time.monotonic()
    async with fresh_database(backend, tmp_path) as url:
        data_dir = tmp_path / "data"
        cli = Cli(backend, data_dir, base_env(data_dir, url) | FAST)
        partner = cli.create("roles")
        probe = Probe(url)
        try:
            with running_receiver() as receiver, running_fleet(cli) as fleet:
                # A little latency keeps deliveries in flight when the worker is killed.
                receiver.behave("roles", delay_s=0.05)
                await _wait_ready(cli, probe)
                traffic = await _create_and_link(fleet, partner, receiver)
                await _send(fleet, traffic, range(MESSAGES // 2))

                async def first_sent() -> bool:
                    return len(await probe.sent()) >= INSTANCES

                await _poll("first messages sent", first_sent, 20)
                killed = await _kill_busy(fleet, probe)
                sent_at_kill = len(await probe.sent())
                await _send(fleet, traffic, range(MESSAGES // 2, MESSAGES))

                async def settled() -> bool:
                    return (
                        traffic.expected_keys() <= set(_received(receiver))
                        and await probe.still_queued() == 0
                        and await probe.notifications_left() == 0
                    )

                await _poll("settled traffic", settled, 45)
                owners_settled = set((await probe.owners()).values())
                heir = next(p.pid for p in fleet.runners if p is not killed.runner)
                _stop_survivors(fleet, killed)
                received = _received(receiver)
                bodies = Counter(r.raw for r in receiver.of("roles"))
            owners = await probe.owners()
            sent = await probe.sent()
        finally:
            await probe.dispose()
    wall = time.monotonic() - started

    assert len(traffic.accepted) == MESSAGES and traffic.refused == 0
    assert killed.owned >= 1 and sent_at_kill < MESSAGES
    assert owners_settled == {heir}  # the survivor took over the dead runner's instances
    # Exactly once: the network carried each accepted message once, and nothing else.
    carried = Counter(id_message for _, id_message, _ in sent)
    assert carried == Counter(set(traffic.accepted)), carried
    # In order per sender, across the take-over.
    by_sender: defaultdict[str, list[str]] = defaultdict(list)
    for s, _, text in traffic.accepted.values():
        by_sender[_phone(s)].append(text)
    for phone, texts in by_sender.items():
        assert [t for p, _, t in sent if p == phone] == texts, phone
    # At least once: every expected notification arrived; the outbox is empty.
    expected = traffic.expected_keys()
    assert expected <= set(received)
    # The survivors stopped cleanly: nothing is owned any more.
    assert set(owners.values()) == {None}, owners
    assert wall < WALL_LIMIT_S, wall
    print(
        f"\nsplit roles: {len(traffic.accepted)} messages accepted, {len(carried)} sent "
        f"(each once), 0 lost; {len(bodies)} distinct notifications delivered "
        f"({bodies.total()} deliveries, {bodies.total() - len(bodies)} repeats; "
        f"{len(expected)} expected from the messages, all there), 0 left queued; killed a "
        f"runner owning {killed.owned} instances and a delivery worker holding "
        f"{killed.claims} claims after {sent_at_kill} sends; wall {wall:.1f} s"
    )
