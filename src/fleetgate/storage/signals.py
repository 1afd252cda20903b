"""Wake-ups between transactions and processes: in-process on SQLite, LISTEN/NOTIFY on PostgreSQL.

A signal is sent *with* a transaction and only reaches listeners once that transaction has
committed, so whoever wakes up finds the data that caused the wake-up. Signals carry no data of
their own that matters for correctness: every listener also polls, so a lost signal only delays.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import URL
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

Listener = Callable[[str], None]
# Dispatched in-process when signals from other processes may have been missed (the LISTEN
# connection was re-established): whoever keeps state derived from signals starts afresh.
RESYNC_CHANNEL = "resync"
_PENDING_KEY = "fleetgate_signals"


class Signals:
    """Publish/subscribe of small string payloads on named channels."""

    # Writes by another process (the CLI on SQLite) send no signal here: re-check about this
    # often. Each waiter draws its own pause, so waiters parked together do not re-read
    # together and hold up the one whose signal just came.
    RECHECK_S = 1.0

    def __init__(self) -> None:
        self._listeners: defaultdict[str, set[Listener]] = defaultdict(set)

    def recheck_s(self) -> float:
        """A pause after which a waiter should look again even without a signal."""
        return random.uniform(0.5, 1.5) * self.RECHECK_S

    async def start(self) -> None:
        """Begin receiving signals from other processes (no-op in-process)."""

    async def stop(self) -> None:
        """Stop receiving signals from other processes."""

    async def send(self, session: AsyncSession, channel: str, payload: str) -> None:
        """Send a signal that listeners get after ``session``'s transaction commits."""
        pending: list[tuple[str, str]] | None = session.info.get(_PENDING_KEY)
        if pending is None:
            pending = session.info[_PENDING_KEY] = []
            event.listen(session.sync_session, "after_commit", self._after_commit)
            event.listen(session.sync_session, "after_rollback", _forget)
        pending.append((channel, payload))

    def _after_commit(self, session: Session) -> None:
        for channel, payload in session.info.pop(_PENDING_KEY, []):
            self.dispatch(channel, payload)

    def dispatch(self, channel: str, payload: str) -> None:
        """Hand a signal to this process's listeners."""
        for listener in list(self._listeners.get(channel, ())):
            try:
                listener(payload)
            except Exception:
                log.exception("signal listener failed on %s", channel)

    def listen(self, channel: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener(payload)`` on every signal of ``channel``; returns an unsubscribe."""
        self._listeners[channel].add(listener)
        return lambda: self._listeners[channel].discard(listener)

    @contextlib.asynccontextmanager
    async def waiter(
        self, channel: str, payload: str | None = None
    ) -> AsyncIterator[asyncio.Event]:
        """An event set by the next signal on ``channel`` (with ``payload``, if given).

        A re-sync sets it too: the signal awaited may have been missed.
        """
        woke = asyncio.Event()
        loop = asyncio.get_running_loop()

        def on_signal(got: str) -> None:
            if payload is None or got == payload:
                loop.call_soon_threadsafe(woke.set)

        def on_resync(_got: str) -> None:
            loop.call_soon_threadsafe(woke.set)

        unsubscribe = self.listen(channel, on_signal)
        unsubscribe_resync = self.listen(RESYNC_CHANNEL, on_resync)
        try:
            yield woke
        finally:
            unsubscribe()
            unsubscribe_resync()


def _forget(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


class PostgresSignals(Signals):
    """Signals through NOTIFY (sent inside the transaction) and one LISTEN connection."""

    CHANNELS = ("fleetgate",)
    # Every process hears every commit's NOTIFY, and a lost LISTEN connection ends in a re-sync.
    RECHECK_S = 10.0

    def __init__(self, url: URL) -> None:
        super().__init__()
        self._dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._task: asyncio.Task[None] | None = None
        # Names this process in its notifications, so it can skip its own when they come back.
        self._origin = secrets.token_hex(8)

    async def send(self, session: AsyncSession, channel: str, payload: str) -> None:
        # PostgreSQL queues the notification and delivers it to every other process on commit;
        # this process hears it at once, as on SQLite, so it reads its own writes right away
        # instead of after a round trip through the LISTEN connection.
        message = f"{channel}\x1f{payload}\x1f{self._origin}"
        await session.execute(text("SELECT pg_notify('fleetgate', :msg)"), {"msg": message})
        await super().send(session, channel, payload)

    async def start(self) -> None:
        ready = asyncio.Event()
        self._task = asyncio.create_task(self._listen_forever(ready), name="pg-listen")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(ready.wait(), 10)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _listen_forever(self, ready: asyncio.Event) -> None:
        def on_notify(_conn: Any, _pid: int, _channel: str, message: str) -> None:
            channel, _, rest = message.partition("\x1f")
            payload, _, origin = rest.partition("\x1f")
            if origin != self._origin:
                self.dispatch(channel, payload)

        while True:
            conn: asyncpg.Connection | None = None
            try:
                conn = await asyncpg.connect(self._dsn)
                await conn.add_listener("fleetgate", on_notify)
                self.dispatch(RESYNC_CHANNEL, "")
                ready.set()
                while not conn.is_closed():
                    await asyncio.sleep(1)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                # Listeners poll as well, so a gap only delays wake-ups until we reconnect.
                log.warning("LISTEN connection lost (%s); reconnecting", type(exc).__name__)
                await asyncio.sleep(1)
            finally:
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.shield(conn.close(timeout=2))


def signals_for(url: URL) -> Signals:
    """The signal transport that fits a database."""
    return Signals() if url.get_backend_name() == "sqlite" else PostgresSignals(url)
