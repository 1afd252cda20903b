"""What the console's live stream reads, and the signals that say when to read it again.

The console keeps one server-sent-events stream per open page. The stream does not poll on a
timer of its own per tab: it waits on the signals the writes already send (an instance row
changed, a notification was queued, a send was queued or finished), reads what they name, and
sends only what changed. Signals from another process may be missed on SQLite (storage/signals.py),
so a waiter also looks again after the signal layer's re-check pause.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from fleetgate.clock import now_ms
from fleetgate.domain.instances import State
from fleetgate.engines.sandbox import network, statuses
from fleetgate.errors import InvalidInput, NotReady
from fleetgate.services import engine_calls, notifications, outbox, send_queue
from fleetgate.services.notifications import QueuePolicy
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.signals import RESYNC_CHANNEL, Signals

# A QR whose engine names no expiry is fetched again after this long.
QR_DEFAULT_TTL_MS = 20_000
_CHANNELS = (repo.CHANGED_CHANNEL, outbox.CHANNEL, engine_calls.RUNNER_CHANNEL)


@dataclass(frozen=True, slots=True)
class Live:
    """One instance as the console shows it live."""

    id_instance: int
    state: State
    phone: str


@dataclass(frozen=True, slots=True)
class PairingQr:
    payload: str
    expires_ms: int


@dataclass(frozen=True, slots=True)
class QueueCounts:
    notifications: int
    sends: int


async def live_states(*, db: Database, partner_id: int, ids: Iterable[int]) -> dict[int, Live]:
    """The partner's instances among ``ids`` that are not deleted (others are left out)."""
    found: dict[int, Live] = {}
    async with db.reading() as session:
        for id_instance in ids:
            row = await repo.owned(session, id_instance, partner_id=partner_id)
            if row is not None:
                view = row[0]
                found[id_instance] = Live(id_instance, view.state, view.wid.removesuffix("@c.us"))
    return found


async def pairing_qr(*, db: Database, signals: Signals, id_instance: int) -> PairingQr | None:
    """The QR to scan now; None when there is none to show: linked already, the engine not
    ready, or refusing (the stream asks again later, and shows the state meanwhile)."""
    try:
        answer = await engine_calls.call_engine(
            db=db, signals=signals, id_instance=id_instance, method=engine_calls.QR, args={}
        )
    except (NotReady, InvalidInput):
        return None
    expires = answer.get("expiresMs")
    if not isinstance(expires, int):
        expires = now_ms() + QR_DEFAULT_TTL_MS
    return PairingQr(str(answer["payload"]), expires)


async def queue_counts(*, db: Database, policy: QueuePolicy, id_instance: int) -> QueueCounts:
    """How many notifications wait to be taken, and how many messages wait to be sent."""
    waiting = await notifications.count(db=db, policy=policy, id_instance=id_instance)
    async with db.reading() as session:
        sends = await send_queue.count_waiting(session=session, id_instance=id_instance)
    return QueueCounts(waiting, sends)


async def phone_mark(*, db: Database, phone: str) -> tuple[int, int, int]:
    """What changes whenever a sandbox phone's lists may show something new: the newest event
    it received or sent (messages, receipts, group changes), and the newest status it got."""
    async with db.reading() as session:
        received, sent = await network.feed_mark(session, phone)
        return received, sent, await statuses.newest_for(session, phone)


class Wakeups:
    """The watched instances some signal named since they were last taken, and whether the
    watched sandbox phone (if any) was named since ``take_phone``."""

    def __init__(self, ids: Iterable[int], phone: str = "") -> None:
        self.watched = frozenset(ids)
        self.phone = phone
        # Everything is due at first: the stream starts with a full picture.
        self._due: set[int] = set(self.watched)
        self._phone_due = bool(phone)
        self._woke = asyncio.Event()
        self._woke.set()
        self._loop = asyncio.get_running_loop()

    def on_signal(self, payload: str) -> None:
        if payload.isdigit() and int(payload) in self.watched:
            self._loop.call_soon_threadsafe(self._mark, {int(payload)})

    def on_phone_signal(self, payload: str) -> None:
        if payload == self.phone:
            self._loop.call_soon_threadsafe(self._mark, set(), True)

    def on_resync(self, _payload: str) -> None:
        self._loop.call_soon_threadsafe(self._mark, set(self.watched), True)

    def _mark(self, ids: set[int], phone: bool = False) -> None:
        self._due |= ids
        self._phone_due = self._phone_due or (phone and bool(self.phone))
        self._woke.set()

    def recheck(self) -> None:
        """Look at everything again (a signal from another process may have been missed)."""
        self._mark(set(self.watched), True)

    async def wait(self, timeout_s: float) -> bool:
        """Until some watched instance is due, at most ``timeout_s``; whether one is."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._woke.wait(), timeout_s)
        return self._woke.is_set()

    def take_phone(self) -> bool:
        """Whether the phone is due now (and it is not after); before ``take``, which ends the
        wake-up."""
        due, self._phone_due = self._phone_due, False
        return due

    def take(self) -> set[int]:
        """The instances due now (and none are due after)."""
        due, self._due = self._due, set()
        self._woke.clear()
        return due


@contextlib.contextmanager
def watching(signals: Signals, ids: Iterable[int], phone: str = "") -> Iterator[Wakeups]:
    """Wake-ups for ``ids``, and for the sandbox ``phone`` if one is named, while the block
    runs."""
    wakeups = Wakeups(ids, phone)
    stops = [signals.listen(channel, wakeups.on_signal) for channel in _CHANNELS]
    if phone:
        stops.append(signals.listen(network.PHONE_CHANNEL, wakeups.on_phone_signal))
    stops.append(signals.listen(RESYNC_CHANNEL, wakeups.on_resync))
    try:
        yield wakeups
    finally:
        for stop in stops:
            stop()
