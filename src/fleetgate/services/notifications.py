"""An instance's notification queue as the HTTP-API poller sees it, and its dead letters."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from fleetgate.clock import now_ms
from fleetgate.domain.notifications import DeadLetter, Queued
from fleetgate.errors import InvalidInput
from fleetgate.services import outbox
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import outbox as repo
from fleetgate.storage.signals import Signals

RECEIVE_TIMEOUT_MIN = 5
RECEIVE_TIMEOUT_MAX = 60
CLEAR_INTERVAL_MS = 60_000


@dataclass(frozen=True, slots=True)
class QueuePolicy:
    """How long notifications are kept (from the settings)."""

    retention_ms: int

    def cutoff(self, now: int) -> int:
        """Notifications created at or before this are expired."""
        return now - self.retention_ms


async def receive(
    *, db: Database, signals: Signals, policy: QueuePolicy, id_instance: int, timeout_s: float
) -> Queued | None:
    """The queue head, waiting up to ``timeout_s`` for one to arrive; None if none came."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with signals.waiter(outbox.CHANNEL, str(id_instance)) as arrived:
            async with db.reading() as session:
                item = await repo.head(
                    session, id_instance=id_instance, newer_than=policy.cutoff(now_ms())
                )
            left = deadline - time.monotonic()
            if item is not None or left <= 0:
                return item
            try:
                await asyncio.wait_for(arrived.wait(), min(left, signals.recheck_s()))
            except TimeoutError:
                pass


async def acknowledge(*, db: Database, id_instance: int, receipt_id: int) -> bool:
    """Remove a notification from the queue; False if it was not there."""
    async with db.transaction() as session:
        return await repo.acknowledge(session, id_instance=id_instance, receipt_id=receipt_id)


async def count(*, db: Database, policy: QueuePolicy, id_instance: int) -> int:
    """How many notifications wait in the queue."""
    async with db.reading() as session:
        return await repo.count_pending(
            session, id_instance=id_instance, newer_than=policy.cutoff(now_ms())
        )


async def clear(*, db: Database, id_instance: int) -> int | None:
    """Empty the queue; None (and nothing done) if it was cleared less than a minute ago.

    On None, the caller can tell how long to wait with :func:`clear_wait_s`.
    """
    now = now_ms()
    async with db.transaction() as session:
        # One conditional UPDATE: of clears racing each other exactly one gets through.
        if not await instances_repo.mark_queue_cleared(
            session, id_instance, now=now, interval_ms=CLEAR_INTERVAL_MS
        ):
            return None
        return await repo.clear_pending(session, id_instance=id_instance)


async def clear_wait_s(*, db: Database, id_instance: int) -> int:
    """Seconds until clearWebhooksQueue is allowed again (at least 1)."""
    async with db.reading() as session:
        last = await instances_repo.queue_cleared_ms(session, id_instance)
    return max(1, -(-(last + CLEAR_INTERVAL_MS - now_ms()) // 1000))


async def list_dead(
    *, db: Database, partner_id: int | None, instance_ids: list[int] | None, limit: int
) -> list[DeadLetter]:
    """Dead letters, oldest first, of one partner's instances (or, for operators, anyone's)."""
    async with db.reading() as session:
        return await repo.dead_letters(
            session, instance_ids=instance_ids, partner_id=partner_id, limit=limit
        )


async def replay(
    *, db: Database, signals: Signals, partner_id: int | None, ids: list[int]
) -> list[Queued]:
    """Queue dead letters again, at the tail of their queues; the new notifications."""
    if not ids:
        raise InvalidInput("name at least one dead letter to replay")
    async with db.transaction() as session:
        fresh = await repo.requeue(session, ids=ids, partner_id=partner_id, now=now_ms())
        for id_instance in {q.id_instance for q in fresh}:
            await signals.send(session, outbox.CHANNEL, str(id_instance))
    return fresh


async def wait_quietly(timeout_s: float) -> None:
    """Hold a long-poll open without answering anything (see receiveNotification)."""
    await asyncio.sleep(timeout_s)
