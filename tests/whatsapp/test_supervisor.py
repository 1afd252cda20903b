"""Worker processes: placement, a killed or hung worker, a crash loop.

The workers are real subprocesses running the stand-in client; SIGKILL and SIGSTOP are
sent to them as the kernel (OOM) or a Go fatal error would end them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import signal
import time
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest

from fleetgate.domain.instances import State
from fleetgate.engines.base import EngineError, OutgoingMessage
from fleetgate_whatsapp.engine import WhatsAppEngine, WhatsAppSession
from fleetgate_whatsapp.process import Phase
from tests.engines.contract import (
    PHONE,
    EngineHarness,
    Link,
    NewInstance,
    OpenSession,
    RecordingEvents,
    wid_of,
)
from tests.support import until
from tests.whatsapp.harness import MakeWhatsApp, SqliteOnly, WhatsAppFixtures
from tests.whatsapp.standin import ENV_RECYCLE_AT, Network

Opened = tuple[WhatsAppSession, RecordingEvents]
Linked = Callable[..., Awaitable[tuple[WhatsAppEngine, list[Opened]]]]

log = logging.getLogger(__name__)


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


class TestSupervisor(SqliteOnly, WhatsAppFixtures, EngineHarness):
    """The supervisor behind the engine."""

    @pytest.fixture
    def linked(
        self,
        make_whatsapp: MakeWhatsApp,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> Linked:
        """Factory: ``linked(count, **settings)``: an engine and ``count`` started sessions,
        each linked to PHONE."""

        async def linked(count: int, **settings: Any) -> tuple[WhatsAppEngine, list[Opened]]:
            engine = make_whatsapp(**settings)
            opened = []
            for _ in range(count):
                session, events = open_session(engine, await new_instance())
                await session.start()
                opened.append((cast(WhatsAppSession, session), events))
            for session, events in opened:
                await link(session.sid, PHONE)
                await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=20)
            return engine, opened

        return linked

    async def test_sessions_beyond_n_go_to_another_worker_and_empty_workers_end(
        self, make_whatsapp: MakeWhatsApp, open_session: OpenSession, new_instance: NewInstance
    ) -> None:
        engine = make_whatsapp(sessions_per_worker=2)
        sessions = []
        for _ in range(3):
            session, _ = open_session(engine, await new_instance())
            await session.start()
            sessions.append(session)
        first, second = engine.supervisor.workers
        assert sorted(first.members) == sorted(s.sid for s in sessions[:2])
        assert list(second.members) == [sessions[2].sid]
        assert first.pid != second.pid
        assert all(pid_alive(w.pid or 0) for w in (first, second))

        # A place freed on the first worker is taken before a new worker starts.
        await sessions[0].stop()
        again, _ = open_session(engine, await new_instance())
        await again.start()
        assert again.sid in first.members
        assert engine.supervisor.workers == [first, second]

        # The last session of a worker takes the worker with it.
        second_pid = second.pid
        assert second_pid is not None
        await sessions[2].stop()
        assert engine.supervisor.workers == [first]
        assert second.phase is Phase.RETIRED
        await until(lambda: _async(not pid_alive(second_pid)), "the empty worker to exit")

    async def test_killed_worker_restarts_and_its_sessions_come_back_without_a_new_link(
        self, linked: Linked, network: Network
    ) -> None:
        engine, opened = await linked(4, sessions_per_worker=2)
        victim, bystander = engine.supervisor.workers
        victim_pid, bystander_pid = victim.pid, bystander.pid
        assert victim_pid is not None
        hit = [pair for pair in opened if pair[0].sid in victim.members]
        spared = [pair for pair in opened if pair not in hit]
        seen = {id(events): len(events.calls) for _, events in opened}

        # A send in flight on the worker that dies.
        network.set_flag("hold", True)
        sender = hit[0][0]
        message = OutgoingMessage("BAE5F4886F9B4B35", "380501112233@c.us", _text("lost?"))
        in_flight = asyncio.create_task(sender.send(message))
        await until(lambda: _async(network.held() == 1), "the send to wait in the worker")

        killed_at = time.monotonic()
        os.kill(victim_pid, signal.SIGKILL)
        with pytest.raises(
            EngineError,
            match=r"worker 1 \(pid \d+\) ended \(killed by SIGKILL\) before answering send",
        ):
            await in_flight
        network.set_flag("hold", False)

        for _, events in hit:
            await events.wait_until(
                lambda ev=events: (
                    ev.state == (State.AUTHORIZED, wid_of(PHONE))
                    and (State.STARTING, wid_of(PHONE)) in ev.states[-2:]
                ),
                20,
                "authorized again after the restart",
            )
        back_s = time.monotonic() - killed_at
        log.warning("worker killed -> %d sessions authorized again in %.2f s", len(hit), back_s)

        assert victim.pid not in (None, victim_pid)
        assert len(victim.restarts) == 1
        assert "killed by SIGKILL" in victim.restarts[0].reason
        for _, events in hit:
            # No new link: the credentials were never forgotten nor replaced.
            assert [kind for kind, _ in events.calls[seen[id(events)] :]] == ["state", "state"]
        assert bystander.pid == bystander_pid
        assert len(bystander.restarts) == 0

        # The reopened session works; the bystanders' sessions never noticed anything.
        remote = await sender.send(message)
        assert remote.startswith("3EB0")
        assert [m["id"] for m in network.messages_to("380501112233")] == [remote]
        for _, events in spared:
            assert len(events.calls) == seen[id(events)]

    async def test_hung_worker_is_killed_by_the_sweep_and_its_sessions_come_back(
        self, linked: Linked
    ) -> None:
        engine, ((_, events),) = await linked(1, ping_timeout_s=0.5)
        (worker,) = engine.supervisor.workers
        hung_pid = worker.pid
        assert hung_pid is not None
        os.kill(hung_pid, signal.SIGSTOP)
        try:
            await engine.sweep()
            await events.wait_until(
                lambda: (
                    events.states[-2:]
                    == [(State.STARTING, wid_of(PHONE)), (State.AUTHORIZED, wid_of(PHONE))]
                ),
                20,
                "authorized again after the hung worker was replaced",
            )
        finally:
            if pid_alive(hung_pid):
                os.kill(hung_pid, signal.SIGCONT)
        assert worker.pid != hung_pid
        assert "killed by SIGKILL" in worker.restarts[0].reason

    async def test_crash_loop_backs_off_and_logs_once_per_restart(
        self,
        make_whatsapp: MakeWhatsApp,
        open_session: OpenSession,
        new_instance: NewInstance,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.ERROR, logger="fleetgate_whatsapp.process")
        engine = make_whatsapp(
            client_factory="tests.whatsapp.standin:crashing",
            restart_backoff_min_s=0.05,
            restart_backoff_max_s=0.4,
        )
        session, events = open_session(engine, await new_instance())
        await session.start()
        assert events.state == (State.NOT_AUTHORIZED, "")
        (worker,) = engine.supervisor.workers
        await until(lambda: _async(len(worker.restarts) >= 7), "seven restarts", timeout=30)
        await session.stop()
        restarts = list(worker.restarts)

        for failures, restart in enumerate(restarts, start=1):
            ceiling = min(0.4, 0.05 * 2 ** (failures - 1))
            assert max(0.05, ceiling / 2) <= restart.delay_s <= ceiling, (failures, restart)
            assert "exited with code 2" in restart.reason
        for before, after in itertools.pairwise(restarts):
            # The pause was kept: the next end came no sooner than the pause chosen before it.
            assert after.at - before.at >= before.delay_s
        assert restarts[-1].delay_s >= 0.2  # capped, never back to a tight loop
        logged = [r for r in caplog.records if r.name == "fleetgate_whatsapp.process"]
        assert len(logged) == len(restarts)
        assert all("fatal error: concurrent map writes" in r.getMessage() for r in logged)
        assert worker.phase is Phase.RETIRED

    async def test_a_worker_that_ran_long_enough_restarts_after_the_shortest_pause(
        self, linked: Linked
    ) -> None:
        engine, ((_, events),) = await linked(1, stable_after_s=0.5)
        (worker,) = engine.supervisor.workers

        async def kill_and_wait_back() -> None:
            pid = worker.pid
            assert pid is not None
            os.kill(pid, signal.SIGKILL)
            await until(lambda: _async(worker.pid != pid), "a new process")
            await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=20)

        await kill_and_wait_back()
        await kill_and_wait_back()  # at once: a second failure in a row
        assert worker.failures == 2
        back_at = time.monotonic()
        await until(lambda: _async(time.monotonic() - back_at > 1.0), "the worker to run a while")
        await kill_and_wait_back()
        assert worker.failures == 1
        assert worker.restarts[-1].delay_s == 0.05

    async def test_a_worker_asking_to_be_replaced_is_not_a_failure(
        self, linked: Linked, open_session: OpenSession, caplog: pytest.LogCaptureFixture
    ) -> None:
        engine, ((session, events),) = await linked(1, env={ENV_RECYCLE_AT: "2"})
        await session.stop()
        again, again_events = open_session(engine, session.sid, events.auths[-1])
        await again.start()  # the second connect attempt: the worker exits with 75
        (worker,) = engine.supervisor.workers
        await again_events.wait_until(
            lambda: (
                worker.generation == 2 and again_events.state == (State.AUTHORIZED, wid_of(PHONE))
            ),
            20,
            "authorized on a new worker process",
        )
        assert worker.failures == 0
        assert len(worker.restarts) == 0
        assert "asked to be replaced" in caplog.text

    async def test_calls_to_a_restarting_worker_fail_fast_and_clearly(self, linked: Linked) -> None:
        engine, ((session, events),) = await linked(
            1, restart_backoff_min_s=30.0, restart_backoff_max_s=30.0
        )
        (worker,) = engine.supervisor.workers
        assert worker.pid is not None
        os.kill(worker.pid, signal.SIGKILL)
        await events.wait_for_state(State.STARTING, wid_of(PHONE), timeout=20)
        assert worker.phase is Phase.DOWN
        started = time.monotonic()
        with pytest.raises(EngineError, match="whatsapp worker 1 is restarting"):
            await session.exists(PHONE)
        assert time.monotonic() - started < 1.0
        with pytest.raises(EngineError):
            await session.send(
                OutgoingMessage("BAE5F4886F9B4B36", "380501112233@c.us", _text("now?"))
            )


def _text(text: str) -> dict[str, object]:
    return {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}


async def _async(value: bool) -> bool:
    return value
