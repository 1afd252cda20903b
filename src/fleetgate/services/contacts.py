"""An instance's own address book (addContact, editContact, deleteContact) and profile
picture, kept by fleetgate for every engine."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.storage.repos import contacts as repo


async def find(*, session: AsyncSession, id_instance: int, chat_id: str) -> dict[str, Any] | None:
    """The contact's fields, or None if the instance has no such contact."""
    data = await repo.find(session, id_instance, chat_id)
    return None if data is None else dict(orjson.loads(data))


async def save(
    *, session: AsyncSession, id_instance: int, chat_id: str, fields: dict[str, Any]
) -> None:
    """Add the contact, or replace its fields."""
    await repo.put(session, id_instance, chat_id, orjson.dumps(fields).decode(), now_ms())


async def delete(*, session: AsyncSession, id_instance: int, chat_id: str) -> bool:
    """Remove the contact; False if there was none."""
    return await repo.remove(session, id_instance, chat_id)


async def picture_key(*, session: AsyncSession, id_instance: int) -> str | None:
    """The media key of the instance's profile picture, if it set one."""
    return await repo.picture_key(session, id_instance)


async def set_picture(*, session: AsyncSession, id_instance: int, key: str) -> None:
    await repo.set_picture(session, id_instance, key, now_ms())
