"""Notification rows (the outbox)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.tables import NotificationRow


async def append(
    session: AsyncSession,
    *,
    id_instance: int,
    type_webhook: str,
    body: str,
    now: int,
    expires_ms: int,
) -> int:
    row = NotificationRow(
        id_instance=id_instance,
        type_webhook=type_webhook,
        body=body,
        created_ms=now,
        expires_ms=expires_ms,
    )
    session.add(row)
    await session.flush()
    return row.id
