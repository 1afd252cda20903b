"""Group commit for createInstance (both façades): many creates, one transaction.

A burst of creates on SQLite used to queue one transaction each for the one write lock (and
on both databases for the partner row that hands out sequence numbers); now every create
waiting is written together (services/group_commit.py), each partner's sequence numbers taken
in one statement, and each request answered after the commit.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.crypto import TokenCipher
from fleetgate.domain.instances import NewInstance
from fleetgate.services.group_commit import GroupCommit
from fleetgate.services.instances import InstanceOrder, insert_instances
from fleetgate.storage.db import Database
from fleetgate.storage.signals import Signals


class CreateBatcher:
    """Stores the new instances of concurrent requests together."""

    def __init__(self, db: Database, signals: Signals, cipher: TokenCipher) -> None:
        self._signals = signals
        self._cipher = cipher
        self._batch = GroupCommit[InstanceOrder, NewInstance](db, self._write, what="instances")

    async def create(self, order: InstanceOrder) -> NewInstance:
        """Store one new instance (see ``instances.instance_order``); its id and token."""
        return await self._batch.submit(order)

    async def _write(self, session: AsyncSession, orders: list[InstanceOrder]) -> list[NewInstance]:
        return await insert_instances(
            session=session, signals=self._signals, cipher=self._cipher, orders=orders
        )
