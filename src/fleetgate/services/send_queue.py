"""The send queue as its owner sees it: what waits to be sent, how much, and clearing it."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.messages import Message
from fleetgate.storage.repos import messages as repo


async def waiting(*, session: AsyncSession, id_instance: int, limit: int) -> list[Message]:
    """Messages waiting to be sent, oldest first."""
    return await repo.queued(session, id_instance, limit=limit)


async def count_waiting(*, session: AsyncSession, id_instance: int) -> int:
    """How many messages wait to be sent."""
    return await repo.count_queued(session, id_instance)


async def clear_queue(*, session: AsyncSession, id_instance: int) -> int:
    """Drop every message still waiting to be sent; how many were dropped."""
    return await repo.drop_queued(session, id_instance)
