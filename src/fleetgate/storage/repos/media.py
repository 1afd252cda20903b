"""Stored files (the media table); their bytes live in the media store (storage/blobs.py)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.files import StoredFile
from fleetgate.storage.tables import MediaRow


async def add(
    session: AsyncSession,
    file: StoredFile,
    *,
    id_instance: int | None,
    object_key: str,
    created_ms: int,
    expires_ms: int,
) -> None:
    session.add(
        MediaRow(
            key=file.key,
            id_instance=id_instance,
            object_key=object_key,
            size=file.size,
            sha256=file.sha256,
            mime_type=file.mime_type,
            file_name=file.file_name,
            created_ms=created_ms,
            expires_ms=expires_ms,
        )
    )
    await session.flush()


async def find(
    session: AsyncSession, key: str, *, now_ms: int
) -> tuple[StoredFile, int | None, str] | None:
    """A file not expired: the file, its instance, and the key of its object."""
    row = await session.get(MediaRow, key)
    if row is None or row.expires_ms <= now_ms:
        return None
    file = StoredFile(row.key, row.size, row.sha256, row.mime_type, row.file_name)
    return file, row.id_instance, row.object_key


async def expired(session: AsyncSession, now_ms: int, *, limit: int) -> list[tuple[str, str]]:
    """(key, object key) of up to ``limit`` expired files."""
    rows = await session.execute(
        select(MediaRow.key, MediaRow.object_key)
        .where(MediaRow.expires_ms <= now_ms)
        .order_by(MediaRow.expires_ms)
        .limit(limit)
    )
    return [(r.key, r.object_key) for r in rows]


async def remove(session: AsyncSession, keys: list[str]) -> None:
    await session.execute(delete(MediaRow).where(MediaRow.key.in_(keys)))


async def objects_in_use(session: AsyncSession, object_keys: list[str]) -> set[str]:
    """Which of these objects some file row still names."""
    rows = await session.scalars(
        select(MediaRow.object_key).where(MediaRow.object_key.in_(object_keys)).distinct()
    )
    return set(rows)
