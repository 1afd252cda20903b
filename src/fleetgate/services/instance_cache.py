"""Instance look-ups for authentication without a database read on every request.

An entry is dropped by the signal every write to the instance's row sends with its
transaction (in-process on SQLite, NOTIFY on PostgreSQL, so every API process hears it), and
the whole cache is dropped when the PostgreSQL LISTEN connection is re-established, since
signals may have been missed while it was down. A short time to live is the net under both.

A read that raced a write must not be stored: every drop advances an epoch, and a look-up
stores what it read only if no drop happened while it was reading.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from fleetgate.clock import now_ms
from fleetgate.domain.instances import InstanceView
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.signals import RESYNC_CHANNEL, Signals


@dataclass(frozen=True, slots=True)
class _Entry:
    fresh_until: float
    instance: InstanceView
    token_digest: str


class InstanceCache:
    """Not-deleted instances and their token digests, by id (``ttl_s`` 0 turns it off)."""

    def __init__(self, db: Database, signals: Signals, *, ttl_s: float, max_entries: int) -> None:
        self._db = db
        self._ttl_s = ttl_s
        self._max_entries = max_entries
        self._entries: dict[int, _Entry] = {}
        self._epoch = 0
        signals.listen(repo.CHANGED_CHANNEL, self._drop)
        signals.listen(RESYNC_CHANNEL, self._drop)  # its payload names no instance: all go

    async def live(self, id_instance: int) -> tuple[InstanceView, str] | None:
        """The instance if it is neither deleted nor expired, with its token digest."""
        entry = self._entries.get(id_instance)
        if entry is None or entry.fresh_until <= time.monotonic():
            entry = await self._load(id_instance)
            if entry is None:
                return None
        expires = entry.instance.expires_ms
        if expires is not None and expires <= now_ms():
            return None
        return entry.instance, entry.token_digest

    async def _load(self, id_instance: int) -> _Entry | None:
        epoch = self._epoch
        async with self._db.reading() as session:
            found = await repo.current(session, id_instance)
        if found is None:
            self._entries.pop(id_instance, None)
            return None
        entry = _Entry(time.monotonic() + self._ttl_s, *found)
        if self._ttl_s > 0 and epoch == self._epoch:
            if len(self._entries) >= self._max_entries:
                # The oldest insertion goes first; a busy instance simply comes back.
                del self._entries[next(iter(self._entries))]
            self._entries[id_instance] = entry
        return entry

    def _drop(self, payload: str) -> None:
        """Drop the instance the payload names, or every instance if it names none."""
        self._epoch += 1
        if payload.isdigit():
            self._entries.pop(int(payload), None)
        else:
            self._entries.clear()
