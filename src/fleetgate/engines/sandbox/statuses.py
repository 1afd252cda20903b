"""Statuses on the sandbox network: a phone posts one, its contacts (or the participants it
names) receive it, and each of them may view it.

A phone's contacts are the numbers it exchanged messages with. Every recipient is online in
the sandbox, so a status is delivered at once; it is read when the recipient views it.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import StatusRecord
from fleetgate.engines.sandbox.network import MESSAGE, PHONE_CHANNEL, phone_exists
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import SandboxEventRow, SandboxStatusRow, SandboxStatusViewRow


def _chat(phone: str) -> str:
    return f"{phone}@c.us"


async def contacts_of(session: AsyncSession, phone: str) -> set[str]:
    """The numbers ``phone`` exchanged messages with, either way."""
    rows = await session.execute(
        select(SandboxEventRow.from_phone, SandboxEventRow.to_phone)
        .where(
            SandboxEventRow.kind == MESSAGE,
            or_(SandboxEventRow.from_phone == phone, SandboxEventRow.to_phone == phone),
        )
        .distinct()
    )
    return {a if b == phone else b for a, b in rows} - {phone}


async def post(
    session: AsyncSession,
    signals: Signals,
    *,
    from_phone: str,
    id_message: str,
    message_data: dict[str, Any],
    participants: list[str],
    media: dict[str, Any] | None,
) -> None:
    """Post a status to the phone's contacts, or to the named participants the network knows
    (others are skipped, as WhatsApp skips them). Idempotent by phone and id. Each viewer's
    phone is signalled: a page showing its statuses reads them again."""
    known = await session.scalar(
        select(SandboxStatusRow.id).where(
            SandboxStatusRow.from_phone == from_phone, SandboxStatusRow.id_message == id_message
        )
    )
    if known is not None:
        return
    if participants:
        named = {p.removesuffix("@c.us") for p in participants}
        audience = {p for p in named if p != from_phone and await phone_exists(session, p)}
    else:
        audience = await contacts_of(session, from_phone)
    now = now_ms()
    payload = {"messageData": message_data, "participants": participants, "media": media}
    row = SandboxStatusRow(
        from_phone=from_phone,
        id_message=id_message,
        payload=orjson.dumps(payload).decode(),
        at_ms=now,
    )
    session.add(row)
    await session.flush()
    for viewer in sorted(audience):
        session.add(
            SandboxStatusViewRow(
                status_id=row.id, viewer_phone=viewer, status=MessageStatus.DELIVERED, at_ms=now
            )
        )
        await signals.send(session, PHONE_CHANNEL, viewer)
    await session.flush()


async def newest_for(session: AsyncSession, phone: str) -> int:
    """The newest status that went to ``phone``: a new one changes this."""
    stmt = select(func.max(SandboxStatusViewRow.status_id)).where(
        SandboxStatusViewRow.viewer_phone == phone
    )
    return int(await session.scalar(stmt) or 0)


async def _own(session: AsyncSession, phone: str, id_message: str) -> SandboxStatusRow | None:
    return await session.scalar(
        select(SandboxStatusRow).where(
            SandboxStatusRow.from_phone == phone,
            SandboxStatusRow.id_message == id_message,
            SandboxStatusRow.deleted_ms.is_(None),
        )
    )


async def delete(session: AsyncSession, *, phone: str, id_message: str) -> bool:
    """Delete the phone's own status; False if it has none by this id."""
    row = await _own(session, phone, id_message)
    if row is None:
        return False
    row.deleted_ms = now_ms()
    await session.flush()
    return True


async def statistic(
    session: AsyncSession, *, phone: str, id_message: str
) -> list[tuple[str, int, str]] | None:
    """Who the phone's status went to and how far it got; None if there is no such status."""
    row = await _own(session, phone, id_message)
    if row is None:
        return None
    views = await session.execute(
        select(
            SandboxStatusViewRow.viewer_phone,
            SandboxStatusViewRow.at_ms,
            SandboxStatusViewRow.status,
        )
        .where(SandboxStatusViewRow.status_id == row.id)
        .order_by(SandboxStatusViewRow.viewer_phone)
    )
    return [(_chat(v), at, status) for v, at, status in views]


def _record(row: SandboxStatusRow) -> StatusRecord:
    payload = orjson.loads(row.payload)
    return StatusRecord(
        id_message=row.id_message,
        sender=_chat(row.from_phone),
        at_ms=row.at_ms,
        message_data=payload["messageData"],
        participants=list(payload.get("participants") or []),
        media=payload.get("media"),
    )


async def outgoing(session: AsyncSession, *, phone: str, since_ms: int) -> list[StatusRecord]:
    """The phone's own statuses posted since ``since_ms``, newest first."""
    rows = await session.scalars(
        select(SandboxStatusRow)
        .where(
            SandboxStatusRow.from_phone == phone,
            SandboxStatusRow.deleted_ms.is_(None),
            SandboxStatusRow.at_ms >= since_ms,
        )
        .order_by(SandboxStatusRow.id.desc())
    )
    return [_record(r) for r in rows]


async def incoming(
    session: AsyncSession, *, phone: str, since_ms: int, limit: int = 10_000
) -> list[StatusRecord]:
    """Statuses the phone received since ``since_ms`` (deleted ones gone), newest first."""
    rows = await session.scalars(
        select(SandboxStatusRow)
        .join(SandboxStatusViewRow, SandboxStatusViewRow.status_id == SandboxStatusRow.id)
        .where(
            SandboxStatusViewRow.viewer_phone == phone,
            SandboxStatusRow.deleted_ms.is_(None),
            SandboxStatusRow.at_ms >= since_ms,
        )
        .order_by(SandboxStatusRow.id.desc())
        .limit(limit)
    )
    return [_record(r) for r in rows]


async def view(session: AsyncSession, *, viewer: str, sender: str, id_message: str) -> bool:
    """The viewer looks at a status it received: its sender's statistic shows it read."""
    status_id = await session.scalar(
        select(SandboxStatusRow.id).where(
            SandboxStatusRow.from_phone == sender,
            SandboxStatusRow.id_message == id_message,
            SandboxStatusRow.deleted_ms.is_(None),
        )
    )
    if status_id is None:
        return False
    result = await session.execute(
        update(SandboxStatusViewRow)
        .where(
            SandboxStatusViewRow.status_id == status_id,
            SandboxStatusViewRow.viewer_phone == viewer,
        )
        .values(status=MessageStatus.READ, at_ms=now_ms())
    )
    return bool(getattr(result, "rowcount", 0))
