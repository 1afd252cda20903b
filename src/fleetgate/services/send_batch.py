"""Group commit for the send queue: many sendMessage requests, one transaction.

Each request hands its message to the batcher and waits. One task writes every message
waiting at that moment in a single transaction, signals each instance's runner once, and
answers the requests after the commit, so an idMessage is only ever answered for a message
that is stored. Requests that arrive while a commit runs form the next batch; a lone request
is written at once. If a batch fails, its messages are written one by one, so one bad message
fails only its own request.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from fleetgate.errors import NotReady
from fleetgate.services import engine_calls
from fleetgate.services.messaging import queued_message
from fleetgate.services.types import InstanceView
from fleetgate.storage.db import Database
from fleetgate.storage.repos import messages as repo
from fleetgate.storage.signals import Signals

log = logging.getLogger(__name__)

_MAX_BATCH = 500
_Waiting = tuple[dict[str, object], "asyncio.Future[str]"]


class SendBatcher:
    """Writes queued messages of concurrent requests together."""

    def __init__(self, db: Database, signals: Signals) -> None:
        self._db = db
        self._signals = signals
        self._waiting: list[_Waiting] = []
        self._writer: asyncio.Task[None] | None = None

    async def enqueue(
        self,
        instance: InstanceView,
        chat_id: str,
        message_data: dict[str, Any],
        delay_ms: int = 0,
    ) -> str:
        """Queue one message (as ``messaging.enqueue``); its idMessage once it is committed."""
        values = queued_message(instance, chat_id, message_data, delay_ms)
        done: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        self._waiting.append((values, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all(), name="send batcher")
        # The write goes on if this request is cancelled: the message is queued all the same.
        return await asyncio.shield(done)

    async def _write_all(self) -> None:
        batch: list[_Waiting] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:_MAX_BATCH], self._waiting[_MAX_BATCH:]
                try:
                    await self._write([values for values, _ in batch])
                except Exception:
                    log.warning(
                        "a batch of %d messages failed; writing them one by one", len(batch)
                    )
                    await self._write_each(batch)
                else:
                    for values, done in batch:
                        _settle(done, result=str(values["id_message"]))
        finally:
            self._writer = None
            for _, done in batch:  # cancelled mid-write: whether it committed is unknown
                _settle(done, error=NotReady("the server is shutting down"))

    async def _write(self, rows: list[dict[str, object]]) -> None:
        async with self._db.transaction() as session:
            await repo.add_many(session, rows)
            for id_instance in dict.fromkeys(row["id_instance"] for row in rows):
                await self._signals.send(session, engine_calls.RUNNER_CHANNEL, str(id_instance))

    async def _write_each(self, batch: list[_Waiting]) -> None:
        for values, done in batch:
            try:
                await self._write([values])
            except Exception as exc:
                _settle(done, error=exc)
            else:
                _settle(done, result=str(values["id_message"]))


def _settle(
    done: asyncio.Future[str], *, result: str | None = None, error: Exception | None = None
) -> None:
    if done.done():
        return
    if error is None:
        done.set_result(result or "")
    else:
        done.set_exception(error)
        # Read here too, so a request that went away leaves no "never retrieved" warning.
        done.add_done_callback(lambda f: f.exception())
