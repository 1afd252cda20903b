"""Rows of an instance's own address book and profile (contacts, profiles)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.tables import ContactRow, ProfileRow


async def find(session: AsyncSession, id_instance: int, chat_id: str) -> str | None:
    """The contact's fields (JSON), or None."""
    return await session.scalar(
        select(ContactRow.data).where(
            ContactRow.id_instance == id_instance, ContactRow.chat_id == chat_id
        )
    )


async def put(session: AsyncSession, id_instance: int, chat_id: str, data: str, now: int) -> None:
    row = await session.get(ContactRow, (id_instance, chat_id))
    if row is None:
        session.add(ContactRow(id_instance=id_instance, chat_id=chat_id, data=data, updated_ms=now))
    else:
        row.data, row.updated_ms = data, now
    await session.flush()


async def remove(session: AsyncSession, id_instance: int, chat_id: str) -> bool:
    result = await session.execute(
        delete(ContactRow).where(
            ContactRow.id_instance == id_instance, ContactRow.chat_id == chat_id
        )
    )
    return bool(getattr(result, "rowcount", 0))


async def picture_key(session: AsyncSession, id_instance: int) -> str | None:
    return await session.scalar(
        select(ProfileRow.picture_key).where(ProfileRow.id_instance == id_instance)
    )


async def set_picture(session: AsyncSession, id_instance: int, key: str, now: int) -> None:
    row = await session.get(ProfileRow, id_instance)
    if row is None:
        session.add(ProfileRow(id_instance=id_instance, picture_key=key, updated_ms=now))
    else:
        row.picture_key, row.updated_ms = key, now
    await session.flush()
