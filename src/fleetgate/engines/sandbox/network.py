"""The sandbox's virtual messenger network, kept in the database like a real service's servers.

Phones are identified by their number. A phone links to an instance by scanning its QR payload
or typing its pairing code; the instance's session learns of it through a ``sandbox`` signal.
"""

from __future__ import annotations

import secrets
import string

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.engines.base import QrCode
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import InstanceRow, SandboxLinkRow, SandboxPairingRow

QR_TTL_MS = 20_000
CODE_TTL_MS = 150_000
CHANNEL = "sandbox"
_CODE_ALPHABET = string.ascii_uppercase + string.digits


async def linked_phone(session: AsyncSession, id_instance: int) -> str | None:
    """The phone an instance is linked to, if any."""
    return await session.scalar(
        select(SandboxLinkRow.phone).where(SandboxLinkRow.id_instance == id_instance)
    )


async def links_of(session: AsyncSession, ids: list[int]) -> dict[int, str]:
    """The linked phone of each of these instances that has one."""
    rows = await session.execute(
        select(SandboxLinkRow.id_instance, SandboxLinkRow.phone).where(
            SandboxLinkRow.id_instance.in_(ids)
        )
    )
    return {r.id_instance: r.phone for r in rows}


async def current_qr(session: AsyncSession, id_instance: int) -> QrCode:
    """The instance's QR payload, drawn anew once the previous one has expired (it rotates)."""
    now = now_ms()
    row = await session.get(SandboxPairingRow, id_instance)
    if row is None:
        row = SandboxPairingRow(id_instance=id_instance, qr_expires_ms=0, code_expires_ms=0)
        session.add(row)
    if row.qr is None or row.qr_expires_ms <= now:
        row.qr = f"fleetgate-sandbox:{id_instance}:{secrets.token_urlsafe(24)}"
        row.qr_expires_ms = now + QR_TTL_MS
    await session.flush()
    return QrCode(payload=row.qr, expires_ms=row.qr_expires_ms)


async def new_pairing_code(session: AsyncSession, id_instance: int, phone: str) -> str:
    """A fresh 8-character pairing code for ``phone``, valid for 150 s."""
    code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(8))
    row = await session.get(SandboxPairingRow, id_instance)
    if row is None:
        row = SandboxPairingRow(id_instance=id_instance, qr_expires_ms=0)
        session.add(row)
    row.code, row.code_phone, row.code_expires_ms = code, phone, now_ms() + CODE_TTL_MS
    await session.flush()
    return code


async def unlink(session: AsyncSession, signals: Signals, id_instance: int) -> None:
    """Remove an instance's link (logout from the instance side)."""
    await session.execute(delete(SandboxLinkRow).where(SandboxLinkRow.id_instance == id_instance))
    await signals.send(session, CHANNEL, str(id_instance))


async def scan_qr(
    session: AsyncSession, signals: Signals, *, phone: str, payload: str, partner_id: int
) -> int | None:
    """Link ``phone`` to the partner's instance showing this QR now; its id, or None."""
    return await _link_pairing(
        session,
        signals,
        phone=phone,
        partner_id=partner_id,
        match=(SandboxPairingRow.qr == payload, SandboxPairingRow.qr_expires_ms > now_ms()),
    )


async def enter_code(
    session: AsyncSession, signals: Signals, *, phone: str, code: str, partner_id: int
) -> int | None:
    """Link ``phone`` to the partner's instance that issued this code for it; its id, or None."""
    return await _link_pairing(
        session,
        signals,
        phone=phone,
        partner_id=partner_id,
        match=(
            SandboxPairingRow.code == code.replace("-", "").upper(),
            SandboxPairingRow.code_phone == phone,
            SandboxPairingRow.code_expires_ms > now_ms(),
        ),
    )


async def _link_pairing(
    session: AsyncSession,
    signals: Signals,
    *,
    phone: str,
    partner_id: int,
    match: tuple[ColumnElement[bool], ...],
) -> int | None:
    """Link ``phone`` to the live instance of the partner whose pairing matches; its id."""
    pairing = await session.scalar(
        select(SandboxPairingRow)
        .join(InstanceRow, InstanceRow.id_instance == SandboxPairingRow.id_instance)
        .where(*match, InstanceRow.partner_id == partner_id, InstanceRow.deleted_ms.is_(None))
    )
    if pairing is None:
        return None
    id_instance = pairing.id_instance
    await session.delete(pairing)
    link = await session.get(SandboxLinkRow, id_instance)
    if link is None:
        session.add(SandboxLinkRow(id_instance=id_instance, phone=phone, linked_ms=now_ms()))
    else:
        link.phone, link.linked_ms = phone, now_ms()
    await session.flush()
    await signals.send(session, CHANNEL, str(id_instance))
    return id_instance


async def phone_logout(
    session: AsyncSession, signals: Signals, *, phone: str, partner_id: int
) -> list[int]:
    """Unlink ``phone`` from every instance of the partner it is linked to; their ids."""
    ids = list(
        await session.scalars(
            select(SandboxLinkRow.id_instance)
            .join(InstanceRow, InstanceRow.id_instance == SandboxLinkRow.id_instance)
            .where(SandboxLinkRow.phone == phone, InstanceRow.partner_id == partner_id)
        )
    )
    for id_instance in ids:
        await unlink(session, signals, id_instance)
    return ids
