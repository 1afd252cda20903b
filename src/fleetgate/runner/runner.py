"""The runner: owns engine sessions of live instances and keeps them in step with the database.

Ownership is a column of the instance naming a runner that heartbeats in the ``runners``
table. A runner takes instances with no owner or a dead owner (no heartbeat for
``lease_ttl``), so with several runners on PostgreSQL each instance runs exactly once, and
the instances of a killed runner are taken over when its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, replace

import orjson

from fleetgate.aio import being_cancelled
from fleetgate.clock import DAY_MS, now_ms
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import Message, MessageStatus
from fleetgate.engines.base import EngineError, NotInGroup, OutgoingMessage, Session, SessionSpec
from fleetgate.engines.registry import EngineRegistry
from fleetgate.runner import calls
from fleetgate.runner.events import InstanceEvents
from fleetgate.services import engine_calls, files, messaging
from fleetgate.services.media import FetchFailed, Media
from fleetgate.storage.db import Database
from fleetgate.storage.repos import calls as calls_repo
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import messages as messages_repo
from fleetgate.storage.repos import runners as repo
from fleetgate.storage.signals import Signals

log = logging.getLogger(__name__)
# How long stop() waits for a pass in progress to end after cancelling it.
_STOP_WAIT_S = 10.0

# A queued message not sent within this time leaves the queue as "failed".
QUEUE_TTL_MS = DAY_MS


@dataclass(slots=True)
class Held:
    """A session this runner runs, and the epochs it was last brought in line with."""

    session: Session
    events: InstanceEvents
    session_epoch: int
    logout_epoch: int


@dataclass(frozen=True, slots=True)
class RunnerConfig:
    tick_s: float = 2.0
    lease_ttl_s: float = 15.0
    claim_batch: int = 1000
    start_concurrency: int = 32
    # The only runner there can be (SQLite): whatever other runners owned is ours at start,
    # without waiting for their leases to run out after a crash.
    sole: bool = False


class Runner:
    """Runs the sessions of the instances it owns."""

    def __init__(
        self,
        *,
        db: Database,
        signals: Signals,
        engines: EngineRegistry,
        media: Media,
        config: RunnerConfig | None = None,
        runner_id: str | None = None,
    ) -> None:
        self.db = db
        self.signals = signals
        self.engines = engines
        self.media = media
        self.config = config or RunnerConfig()
        self.id = runner_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self.held: dict[int, Held] = {}
        self._dirty: set[int] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unlisten: Callable[[], None] = _nothing
        self._last_heartbeat = 0
        self._slots = asyncio.Semaphore(self.config.start_concurrency)
        self._senders: dict[int, asyncio.Task[None]] = {}

    @property
    def lease_ms(self) -> int:
        return int(self.config.lease_ttl_s * 1000)

    async def start(self) -> None:
        """Register, take the instances that need an owner, and keep going in the background."""
        async with self.db.transaction() as session:
            if self.config.sole:
                await repo.forget_all(session)
            await repo.register(session, self.id, now=now_ms())
        self._last_heartbeat = now_ms()
        self._unlisten = self.signals.listen(engine_calls.RUNNER_CHANNEL, self._on_signal)
        await self.tick()
        self._task = asyncio.create_task(self._loop(), name=f"runner {self.id}")

    async def stop(self) -> None:
        """Stop every session and hand its instances back, so another runner can take them."""
        self._unlisten()
        if self._task is not None:
            self._task.cancel()
            # Bounded: a pass stuck in the database must not keep the process from stopping.
            await asyncio.wait([self._task], timeout=_STOP_WAIT_S)
        await self._stop_sessions(list(self.held))
        with contextlib.suppress(Exception):
            async with self.db.transaction() as session:
                await repo.release(session, runner_id=self.id)
                await repo.unregister(session, self.id)

    def _on_signal(self, payload: str) -> None:
        if payload.isdigit():
            self._kick(int(payload))

    def _kick(self, id_instance: int) -> None:
        self._dirty.add(id_instance)
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.tick_s)
            self._wake.clear()
            dirty, self._dirty = self._dirty, set()
            try:
                if dirty and now_ms() - self._last_heartbeat < self.config.tick_s * 1000:
                    await self._pass(ids=sorted(dirty))
                else:
                    await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:
                if being_cancelled():
                    raise
                log.exception("runner pass failed")
                self._fence()

    async def tick(self) -> None:
        """A full pass: heartbeat, reconcile what we own, take orphans, answer calls."""
        now = now_ms()
        async with self.db.transaction() as session:
            alive = await repo.heartbeat(session, self.id, now=now)
            if not alive:
                await repo.register(session, self.id, now=now)
            await repo.forget_dead(session, cutoff=now - 4 * self.lease_ms)
        self._last_heartbeat = now
        await self._pass(ids=None)
        for engine in self.engines.built():
            await engine.sweep()

    def _fence(self) -> None:
        """Without a fresh heartbeat another runner may take over: stop running anything."""
        if self.held and now_ms() - self._last_heartbeat > self.lease_ms:
            log.warning("runner %s lost its lease; stopping %d sessions", self.id, len(self.held))
            for held in self.held.values():
                held.events.active = False
            task = asyncio.create_task(self._stop_sessions(list(self.held)))
            task.add_done_callback(lambda _t: None)

    async def _pass(self, *, ids: list[int] | None) -> None:
        now = now_ms()
        async with self.db.transaction() as session:
            dead = await repo.dead_runners(session, cutoff=now - self.lease_ms)
            taken = await repo.claim(
                session,
                runner_id=self.id,
                dead=dead,
                now=now,
                limit=self.config.claim_batch,
                ids=ids,
            )
            rows = await repo.instances_of(session, runner_id=self.id, now=now, ids=ids)
        mine = {r.id_instance: r for r in rows if r.runner_id == self.id}
        scope = set(self.held) if ids is None else set(ids) & set(self.held)
        await self._stop_sessions([i for i in scope if i not in mine])
        gone = [i for i, r in mine.items() if not r.live]
        if gone:
            await self._stop_sessions(gone)
            async with self.db.transaction() as session:
                await repo.release(session, runner_id=self.id, ids=gone)
        await asyncio.gather(*(self._reconcile(r) for r in mine.values() if r.live))
        running = [i for i in mine if i in self.held]
        await self._answer_calls(running)
        await self._start_senders(running)
        if len(taken) == self.config.claim_batch:
            self._wake.set()  # more orphans may be waiting: take them now, not next tick

    async def _reconcile(self, row: repo.Owned) -> None:
        async with self._slots:
            held = self.held.get(row.id_instance)
            if held is not None and row.logout_epoch != held.logout_epoch:
                held.logout_epoch = row.logout_epoch
                await self._guard(row.id_instance, held.session.logout())
            if held is not None and row.session_epoch != held.session_epoch:
                await self._stop_sessions([row.id_instance])
                held = None
            if held is None:
                await self._start_session(row)

    async def _start_session(self, row: repo.Owned) -> None:
        events = InstanceEvents(self.db, self.signals, self.media, row.id_instance, self._kick)
        auth = orjson.loads(row.engine_auth) if row.engine_auth else None
        spec = SessionSpec(id_instance=row.id_instance, auth=auth)
        session = self.engines.get(row.engine).open_session(spec, events)
        events.session = session
        self.held[row.id_instance] = Held(session, events, row.session_epoch, row.logout_epoch)
        await self._guard(row.id_instance, session.start())

    async def _stop_sessions(self, ids: list[int]) -> None:
        for id_instance in ids:
            sender = self._senders.pop(id_instance, None)
            if sender is not None:
                sender.cancel()
            held = self.held.pop(id_instance, None)
            if held is not None:
                held.events.active = False
                await self._guard(id_instance, held.session.stop())

    async def _guard(self, id_instance: int, work: object) -> None:
        try:
            await work  # type: ignore[misc]
        except Exception:
            if being_cancelled():
                raise
            log.exception("engine session of instance %s failed", id_instance)

    async def _start_senders(self, ids: list[int]) -> None:
        """A send loop for every instance with a non-empty queue that has none running."""
        idle = [i for i in ids if i not in self._senders]
        if not idle:
            return
        with_queue: list[int] = []
        async with self.db.reading() as session:
            for chunk in _chunks(idle):
                with_queue += await messages_repo.instances_with_queue(session, chunk)
        for id_instance in with_queue:
            task = asyncio.create_task(self._send_loop(id_instance), name=f"send {id_instance}")
            self._senders[id_instance] = task
            task.add_done_callback(functools.partial(self._sender_done, id_instance))

    def _sender_done(self, id_instance: int, task: asyncio.Task[None]) -> None:
        if self._senders.get(id_instance) is task:
            del self._senders[id_instance]
        if not task.cancelled() and task.exception() is not None:
            log.error("send loop of %s failed", id_instance, exc_info=task.exception())

    async def _send_loop(self, id_instance: int) -> None:
        """Drain one instance's send queue in order, pausing delaySendMessagesMilliseconds
        between sends; stop when it is empty or the instance is not authorized."""
        while id_instance in self.held:
            async with self.db.reading() as session:
                found = await instances_repo.view(session, id_instance, now=now_ms())
                head = await messages_repo.queue_head(session, id_instance)
                last_send = await instances_repo.last_send_ms(session, id_instance)
            if found is None or head is None:
                return
            instance = found[0]
            now = now_ms()
            if now - head.at_ms > QUEUE_TTL_MS:
                await self._send_failed(
                    instance, head, MessageStatus.FAILED, "not sent within 24 hours"
                )
                continue
            if instance.state != State.AUTHORIZED:
                return  # the instance kicks us again once it is authorized
            pause = last_send + max(instance.delay_send_ms, head.delay_ms) - now
            if pause > 0:
                await asyncio.sleep(pause / 1000)
                continue  # look again: the queue may have been cleared meanwhile
            data = orjson.loads(head.data)
            if messaging.quoted_id(data) is not None:
                async with self.db.reading() as session:
                    data = await messaging.with_remote_quotes(
                        session=session, id_instance=id_instance, data=data
                    )
            try:
                data, file = await files.ready_to_send(media=self.media, message=head, data=data)
            except FetchFailed as exc:
                await self._send_failed(instance, head, MessageStatus.FAILED, str(exc))
                continue
            if file is not None:  # a fresh link for the engine and the notifications
                key = head.media_key or file.key
                data = self.media.with_link(data, id_instance, key)
                head = replace(head, data=orjson.dumps(data).decode(), media_key=key)
            held = self.held.get(id_instance)
            if held is None:
                return
            try:
                remote_id = await held.session.send(
                    OutgoingMessage(head.id_message, head.chat_id, data, file)
                )
            except EngineError as exc:
                status = (
                    MessageStatus.NOT_IN_GROUP
                    if isinstance(exc, NotInGroup)
                    else MessageStatus.FAILED
                )
                await self._send_failed(instance, head, status, str(exc))
                continue
            read: list[str] = []
            async with self.db.transaction() as session:
                await messaging.record_sent(
                    session=session,
                    signals=self.signals,
                    instance=instance,
                    message=head,
                    remote_id=remote_id,
                )
                if instance.switches.get("mark_incoming_messages_read_on_reply", False):
                    read = await messaging.read_incoming(
                        session=session,
                        id_instance=id_instance,
                        chat_id=head.chat_id,
                        id_message=None,
                    )
            held = self.held.get(id_instance)
            if read and held is not None:  # markIncomingMessagesReadedOnReply: answering reads
                await self._guard(id_instance, held.session.read_chat(head.chat_id, read))

    async def _send_failed(
        self, instance: InstanceView, message: Message, status: MessageStatus, description: str
    ) -> None:
        """Take a message off the queue as not sent, with an outgoingMessageStatus saying why."""
        async with self.db.transaction() as session:
            await messaging.record_failed(
                session=session,
                signals=self.signals,
                instance=instance,
                message=message,
                status=status,
                description=description,
            )

    async def _answer_calls(self, ids: list[int]) -> None:
        if not ids:
            return
        now = now_ms()
        async with self.db.transaction() as session:
            await calls_repo.purge_older_than(session, now - engine_calls.CALL_TTL_MS)
            pending = [
                call
                for chunk in _chunks(ids)
                for call in await calls_repo.pending_for(
                    session, chunk, newer_than=now - engine_calls.CALL_TTL_MS
                )
            ]
        for call_id, id_instance, method, args in pending:
            result = await calls.answer(self.held[id_instance].session, method, orjson.loads(args))
            async with self.db.transaction() as session:
                await calls_repo.answer(session, call_id, result)
                await self.signals.send(session, engine_calls.DONE_CHANNEL, str(call_id))


def _nothing() -> None:
    pass


def _chunks(ids: list[int], size: int = 1000) -> list[list[int]]:
    """Id lists small enough for one statement's bind parameters (PostgreSQL allows 32,767)."""
    return [ids[i : i + size] for i in range(0, len(ids), size)]
