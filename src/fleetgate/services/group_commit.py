"""Group commit: many requests' writes, one transaction.

Each request hands its item to the batcher and waits. One task writes every item waiting at
that moment in a single transaction and answers the requests after the commit, so nothing is
answered that is not stored. Items that arrive while a commit runs form the next batch; a lone
item is written at once. If a batch fails, its items are written one by one, so one bad item
fails only its own request. On SQLite this turns a burst of N writers queueing for the one
write lock (each holding it for a whole transaction) into a few transactions.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.errors import NotReady
from fleetgate.storage.db import Database, DatabaseBusy

log = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Writes the items in the open transaction; one result per item, in order.
WriteMany = Callable[[AsyncSession, list[T]], Awaitable[list[R]]]
_MAX_BATCH = 500


class GroupCommit(Generic[T, R]):
    """Writes the items of concurrent requests together, with ``write``."""

    def __init__(self, db: Database, write: WriteMany[T, R], *, what: str) -> None:
        self._db = db
        self._write_many = write
        self._what = what
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; its result once committed."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_all(), name=f"{self._what} batcher")
        # The write goes on if this request is cancelled: the item is stored all the same.
        return await asyncio.shield(done)

    async def _write_all(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:_MAX_BATCH], self._waiting[_MAX_BATCH:]
                try:
                    results = await self._write([item for item, _ in batch])
                except Exception as exc:
                    # A lone item has failed on its own; and after DatabaseBusy, one by one
                    # they would only queue again behind the same writers.
                    if len(batch) == 1 or isinstance(exc, DatabaseBusy):
                        for _, done in batch:
                            _fail(done, exc)
                    else:
                        log.warning(
                            "a batch of %d %s failed; writing them one by one",
                            len(batch),
                            self._what,
                        )
                        await self._write_each(batch)
                else:
                    for (_, done), result in zip(batch, results, strict=True):
                        _answer(done, result)
        finally:
            self._writer = None
            for _, done in batch:  # cancelled mid-write: whether it committed is unknown
                _fail(done, NotReady("the server is shutting down"))

    async def _write(self, items: list[T]) -> list[R]:
        async with self._db.transaction() as session:
            return await self._write_many(session, items)

    async def _write_each(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        for item, done in batch:
            try:
                [result] = await self._write([item])
            except Exception as exc:
                _fail(done, exc)
            else:
                _answer(done, result)


def _answer(done: asyncio.Future[R], result: R) -> None:
    if not done.done():
        done.set_result(result)


def _fail(done: asyncio.Future[R], error: Exception) -> None:
    if not done.done():
        done.set_exception(error)
        # Read here too, so a request that went away leaves no "never retrieved" warning.
        done.add_done_callback(lambda f: f.exception())
