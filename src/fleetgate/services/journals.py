"""Journals: the messages an instance sent and received, and the chats they belong to."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.messages import Direction, Message
from fleetgate.storage.repos import messages as repo


async def recent(
    *, session: AsyncSession, id_instance: int, direction: Direction, since_ms: int, limit: int
) -> list[Message]:
    """Messages of one direction (IN or OUT) since ``since_ms``, newest first."""
    return await repo.journal(
        session, id_instance, direction=direction, since_ms=since_ms, limit=limit
    )


async def chat_history(
    *, session: AsyncSession, id_instance: int, chat_id: str, limit: int
) -> list[Message]:
    """The newest ``limit`` messages of a chat, both ways, newest first."""
    return await repo.journal(session, id_instance, chat_id=chat_id, limit=limit)


async def find_message(
    *, session: AsyncSession, id_instance: int, id_message: str
) -> Message | None:
    """One message of the instance by its idMessage (queued ones too), or None."""
    return await repo.by_id(session, id_instance, id_message)


async def list_chats(
    *, session: AsyncSession, id_instance: int, limit: int
) -> list[tuple[str, str]]:
    """(chat id, best known name) of the chats the instance has messages in."""
    return await repo.chats(session, id_instance, limit=limit)
