"""Group commit for the send queue: many sendMessage requests, one transaction.

Every message waiting is inserted in one statement, each instance's runner is signalled once,
and the requests are answered after the commit (services/group_commit.py), so an idMessage is
only ever answered for a message that is stored.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.instances import InstanceView
from fleetgate.services import engine_calls
from fleetgate.services.group_commit import GroupCommit
from fleetgate.services.messaging import queued_message
from fleetgate.storage.db import Database
from fleetgate.storage.repos import messages as repo
from fleetgate.storage.signals import Signals


class SendBatcher:
    """Writes queued messages of concurrent requests together."""

    def __init__(self, db: Database, signals: Signals) -> None:
        self._signals = signals
        self._batch = GroupCommit[dict[str, object], str](db, self._write, what="messages")

    async def enqueue(
        self,
        instance: InstanceView,
        chat_id: str,
        message_data: dict[str, Any],
        delay_ms: int = 0,
        media_key: str | None = None,
        request: dict[str, Any] | None = None,
    ) -> str:
        """Queue one message (as ``messaging.enqueue``); its idMessage once it is committed."""
        return await self._batch.submit(
            queued_message(instance, chat_id, message_data, delay_ms, media_key, request)
        )

    async def _write(self, session: AsyncSession, rows: list[dict[str, object]]) -> list[str]:
        await repo.add_many(session, rows)
        for id_instance in dict.fromkeys(row["id_instance"] for row in rows):
            await self._signals.send(session, engine_calls.RUNNER_CHANNEL, str(id_instance))
        return [str(row["id_message"]) for row in rows]
