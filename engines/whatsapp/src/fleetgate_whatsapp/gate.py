"""The one process-wide gate in front of the WhatsApp library's Go layer.

The library keeps its sessions in three plain Go maps (``clients``, ``eventChannel``,
``StopSignal``) without a lock. A connect's start-up and a stop write them; every other exported
call the worker makes reads them once, near its start and before any network I/O, and then
works on the session's own client, which is safe to share. A write at the same time as any
other access ends the whole process ("fatal error: concurrent map writes"). So:

- **Writers** are exclusive: a connect's start-up (:meth:`LibraryGate.startup`, held until the
  library first calls back for that session or the connect returns: by then its writes are
  done) and a stop (:meth:`LibraryGate.writer`). Start-ups therefore run one at a time.
- **Readers** share: every other call (:meth:`LibraryGate.reader`). A reader's share is a
  *lease* that ends when the call returns or ``lease_s`` after it began, whichever comes
  first. A writer waits only for leases younger than ``lease_s``: a call that has been inside
  the library that long has long passed its map read, so a send blocked on the network for a
  minute does not hold every other session's connects and stops (and, behind a waiting
  writer, their sends) for that minute. The risk this leaves is a thread that stalls for
  ``lease_s`` between taking its lease and entering Go (the Python prologue of one call); the
  default of 2 s is about a thousand times the stall seen under load here.
- A waiting writer blocks new readers (writer preference), so a stream of short calls cannot
  starve connects and stops.

A start-up that never calls back (a database that hangs inside the library) would hold every
session; after ``startup_cap_s`` the gate lets it go and logs an error.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)


class Hold:
    """One writer's or reader's hold on the gate; :meth:`release` is idempotent and may be
    called from any thread (a start-up is released by the library's callback thread)."""

    def __init__(self, gate: LibraryGate, key: int, exclusive: bool) -> None:
        self._gate = gate
        self._key = key
        self.exclusive = exclusive

    def release(self) -> None:
        self._gate._release(self._key, self.exclusive)


class LibraryGate:
    """Exclusive writers, leased readers (see the module docstring)."""

    def __init__(self, *, lease_s: float = 2.0, startup_cap_s: float = 120.0) -> None:
        self.lease_s = lease_s
        self.startup_cap_s = startup_cap_s
        self._cond = threading.Condition()
        self._keys = itertools.count(1)
        self._leases: dict[int, float] = {}  # reader key -> when it began (monotonic)
        self._writer: tuple[int, float] | None = None  # key, deadline (monotonic)
        self._writers_waiting = 0
        self._readers_waiting = 0
        self.writes = 0  # writer holds granted (for tests and figures)

    def startup(self) -> Hold:
        """An exclusive hold for a connect's start-up; release it at the first callback."""
        return self._acquire_writer(self.startup_cap_s)

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Exclusive, for a stop (short: the library disconnects and deletes map entries)."""
        hold = self._acquire_writer(self.startup_cap_s)
        try:
            yield
        finally:
            hold.release()

    @contextmanager
    def reader(self) -> Iterator[None]:
        """Shared, for one library call; the lease lapses after ``lease_s`` (see above)."""
        hold = self.read_hold()
        try:
            yield
        finally:
            hold.release()

    def read_hold(self) -> Hold:
        """A reader's lease not tied to a ``with`` block (ends at release or after lease_s)."""
        with self._cond:
            self._readers_waiting += 1
            try:
                while self._writer_blocks() or self._writers_waiting:
                    self._wait_for_writer()
            finally:
                self._readers_waiting -= 1
            key = next(self._keys)
            self._leases[key] = time.monotonic()
            return Hold(self, key, exclusive=False)

    def _acquire_writer(self, cap_s: float) -> Hold:
        with self._cond:
            self._writers_waiting += 1
            try:
                while True:
                    if self._writer_blocks():
                        self._wait_for_writer()
                        continue
                    young = self._young_lease_left()
                    if young <= 0:
                        break
                    self._cond.wait(young)
            finally:
                self._writers_waiting -= 1
                self._cond.notify_all()  # readers held back by this waiting writer
            key = next(self._keys)
            self._writer = (key, time.monotonic() + cap_s)
            self.writes += 1
            return Hold(self, key, exclusive=True)

    def _writer_blocks(self) -> bool:
        """Whether a writer holds the gate; one past its cap is let go here."""
        if self._writer is None:
            return False
        deadline = self._writer[1]
        if time.monotonic() < deadline:
            return True
        log.error(
            "a library start-up held the gate for over %.0f s without a callback; "
            "letting other sessions go on",
            self.startup_cap_s,
        )
        self._writer = None
        return False

    def _wait_for_writer(self) -> None:
        """Until notified, or until the holding writer's cap (it is let go then)."""
        if self._writer is None:
            self._cond.wait()
        else:
            self._cond.wait(max(0.0, self._writer[1] - time.monotonic()) + 0.01)

    def _young_lease_left(self) -> float:
        """Seconds until the youngest lease lapses (0 when none is younger than lease_s);
        lapsed leases are forgotten (their late release finds nothing)."""
        now = time.monotonic()
        for key in [k for k, began in self._leases.items() if began + self.lease_s <= now]:
            del self._leases[key]
        if not self._leases:
            return 0.0
        return max(0.0, max(self._leases.values()) + self.lease_s - now)

    def _release(self, key: int, exclusive: bool) -> None:
        with self._cond:
            if exclusive:
                if self._writer is not None and self._writer[0] == key:
                    self._writer = None
                    self._cond.notify_all()
            elif self._leases.pop(key, None) is not None:
                self._cond.notify_all()
