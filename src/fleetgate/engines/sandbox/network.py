"""The sandbox's virtual messenger network, kept in the database like a real service's servers.

Phones are identified by their number. A phone links to an instance by scanning its QR payload
or typing its pairing code; the instance's session learns of it through a ``sandbox`` signal.

The network is shared by every partner, so each number is held by one partner: the first to use
it (``claim_phone``). Only the holder acts as the phone; messages still flow between the phones and
instances of different partners, as on a real network.
"""

from __future__ import annotations

import secrets
import string
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import ColumnElement, delete, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.files import StoredFile
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import QrCode
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import (
    InstanceRow,
    SandboxEventRow,
    SandboxLinkRow,
    SandboxPairingRow,
    SandboxPhoneOwnerRow,
    SandboxPhoneRow,
)

QR_TTL_MS = 20_000
CODE_TTL_MS = 150_000
CHANNEL = "sandbox"
# Names a phone (its number) whose feed just changed, as the sender or the receiver of an event:
# the console's sandbox page waits on it instead of reading the phone's lists on a timer.
PHONE_CHANNEL = "sandbox-phone"
_CODE_ALPHABET = string.ascii_uppercase + string.digits


def file_of(payload: dict[str, Any]) -> StoredFile | None:
    """The stored file a message's payload carries, if any."""
    return StoredFile.from_json(payload.get("file"))


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
    # The instance side of the partner check: an instance links only to a number its own partner
    # holds, and never to one still linked to another partner's instance.
    if not await claim_phone(session, phone, partner_id) or await _linked_elsewhere(
        session, phone, partner_id
    ):
        return None
    id_instance = pairing.id_instance
    await session.delete(pairing)
    # A newly linked device sees what arrives from now on, not the phone's history.
    cursor = await last_event_id(session, phone)
    link = await session.get(SandboxLinkRow, id_instance)
    if link is None:
        session.add(
            SandboxLinkRow(id_instance=id_instance, phone=phone, linked_ms=now_ms(), cursor=cursor)
        )
    else:
        link.phone, link.linked_ms, link.cursor = phone, now_ms(), cursor
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


# -- messages and receipts -------------------------------------------------------------------

MESSAGE = "message"
RECEIPT = "receipt"
PRESENCE = "presence"
# What a phone can show about itself in a chat.
PRESENCES = ("UNAVAILABLE", "AVAILABLE", "COMPOSING", "PAUSED", "RECORDING")


async def register_phone(session: AsyncSession, phone: str) -> None:
    """Make ``phone`` known to the network (idempotent, also when two requests race)."""
    await _insert_new(session, SandboxPhoneRow, phone=phone, created_ms=now_ms())


async def owner_of(session: AsyncSession, phone: str) -> int | None:
    """The partner holding ``phone``, or None while nobody does."""
    stmt = select(SandboxPhoneOwnerRow.partner_id).where(SandboxPhoneOwnerRow.phone == phone)
    return await session.scalar(stmt)


async def claim_phone(session: AsyncSession, phone: str, partner_id: int) -> bool:
    """Whether the partner holds ``phone``, taking it (and making it known) if nobody does.

    When two partners claim a free number at once, the primary key of the owners table decides:
    the loser's INSERT does nothing and it reads the winner's row.
    """
    owner = await owner_of(session, phone)
    if owner is None:
        await register_phone(session, phone)
        await _hold(session, phone, partner_id)
        owner = await owner_of(session, phone)
    return owner == partner_id


async def _hold(session: AsyncSession, phone: str, partner_id: int) -> None:
    await _insert_new(
        session, SandboxPhoneOwnerRow, phone=phone, partner_id=partner_id, claimed_ms=now_ms()
    )


async def _insert_new(
    session: AsyncSession, table: type[SandboxPhoneRow | SandboxPhoneOwnerRow], **values: object
) -> None:
    """INSERT a row keyed by phone unless one is there (also when two requests race)."""
    dialect = session.get_bind().dialect.name
    insert = sqlite_insert if dialect == "sqlite" else pg_insert
    await session.execute(
        insert(table).values(**values).on_conflict_do_nothing(index_elements=["phone"])
    )


async def hold_phone(session: AsyncSession, phone: str, partner_id: int) -> None:
    """Give ``phone`` to the partner unless somebody holds it already (groups.py)."""
    await _hold(session, phone, partner_id)


async def post_event(
    session: AsyncSession,
    signals: Signals,
    kind: str,
    from_phone: str,
    to_phone: str,
    id_message: str,
    payload: dict[str, Any],
) -> None:
    """Put one event in ``to_phone``'s feed and wake its instances (groups.py, chats.py)."""
    await _post(session, signals, kind, from_phone, to_phone, id_message, payload)


async def _linked_elsewhere(session: AsyncSession, phone: str, partner_id: int) -> bool:
    """Whether ``phone`` is linked to an instance of another partner."""
    stmt = (
        select(SandboxLinkRow.id_instance)
        .join(InstanceRow, InstanceRow.id_instance == SandboxLinkRow.id_instance)
        .where(SandboxLinkRow.phone == phone, InstanceRow.partner_id != partner_id)
        .limit(1)
    )
    return await session.scalar(stmt) is not None


async def phone_exists(session: AsyncSession, phone: str) -> bool:
    """Whether the network knows this number (a virtual phone or a linked instance's)."""
    if await session.get(SandboxPhoneRow, phone) is not None:
        return True
    linked = select(SandboxLinkRow.id_instance).where(SandboxLinkRow.phone == phone).limit(1)
    return await session.scalar(linked) is not None


async def linked_instances(session: AsyncSession, phone: str) -> list[int]:
    stmt = select(SandboxLinkRow.id_instance).where(SandboxLinkRow.phone == phone)
    return list(await session.scalars(stmt))


async def post_message(
    session: AsyncSession,
    signals: Signals,
    *,
    from_phone: str,
    to_phone: str,
    id_message: str,
    payload: dict[str, Any],
) -> None:
    """Deliver a message to ``to_phone`` (idempotent by sender and id).

    A virtual phone (no instance linked to it) is always online: it acknowledges delivery at
    once. An instance acknowledges when its session takes the message in.
    """
    sent_before = select(SandboxEventRow.id).where(
        SandboxEventRow.kind == MESSAGE,
        SandboxEventRow.from_phone == from_phone,
        SandboxEventRow.id_message == id_message,
    )
    if await session.scalar(sent_before.limit(1)) is not None:
        return
    await register_phone(session, to_phone)
    # A number first used as a recipient goes to the sender's partner: otherwise anyone could
    # claim it afterwards and read what was sent to it.
    sender_owner = await owner_of(session, from_phone)
    if sender_owner is not None:
        await _hold(session, to_phone, sender_owner)
    await _post(session, signals, MESSAGE, from_phone, to_phone, id_message, payload)
    if not await linked_instances(session, to_phone):
        await post_receipts(
            session,
            signals,
            from_phone=to_phone,
            to_phone=from_phone,
            id_messages=[id_message],
            status=MessageStatus.DELIVERED,
        )


async def post_receipts(
    session: AsyncSession,
    signals: Signals,
    *,
    from_phone: str,
    to_phone: str,
    id_messages: list[str],
    status: str,
) -> None:
    """Tell ``to_phone`` (the sender) that ``from_phone`` got or read these messages."""
    for id_message in id_messages:
        await _post(session, signals, RECEIPT, from_phone, to_phone, id_message, {"status": status})


async def post_presence(
    session: AsyncSession, signals: Signals, *, from_phone: str, to_phone: str, status: str
) -> None:
    """Show ``to_phone`` that ``from_phone`` is online, typing, recording, ... in their chat."""
    await _post(session, signals, PRESENCE, from_phone, to_phone, "", {"status": status})


async def _post(
    session: AsyncSession,
    signals: Signals,
    kind: str,
    from_phone: str,
    to_phone: str,
    id_message: str,
    payload: dict[str, Any],
) -> None:
    session.add(
        SandboxEventRow(
            to_phone=to_phone,
            from_phone=from_phone,
            kind=kind,
            id_message=id_message,
            payload=orjson.dumps(payload).decode(),
            at_ms=now_ms(),
        )
    )
    await session.flush()
    for id_instance in await linked_instances(session, to_phone):
        await signals.send(session, CHANNEL, str(id_instance))
    for phone in dict.fromkeys((to_phone, from_phone)):
        await signals.send(session, PHONE_CHANNEL, phone)


async def events_after(
    session: AsyncSession, phone: str, after: int, limit: int = 500
) -> list[SandboxEvent]:
    """Events for ``phone`` newer than ``after``, oldest first."""
    rows = await session.execute(
        select(
            SandboxEventRow.id,
            SandboxEventRow.kind,
            SandboxEventRow.from_phone,
            SandboxEventRow.id_message,
            SandboxEventRow.payload,
            SandboxEventRow.at_ms,
        )
        .where(SandboxEventRow.to_phone == phone, SandboxEventRow.id > after)
        .order_by(SandboxEventRow.id)
        .limit(limit)
    )
    return [SandboxEvent(*r) for r in rows]


async def last_event_id(session: AsyncSession, phone: str) -> int:
    stmt = select(func.max(SandboxEventRow.id)).where(SandboxEventRow.to_phone == phone)
    return int(await session.scalar(stmt) or 0)


async def feed_mark(session: AsyncSession, phone: str) -> tuple[int, int]:
    """The newest events ``phone`` received and sent: a new one, either way, changes this."""
    sent = select(func.max(SandboxEventRow.id)).where(SandboxEventRow.from_phone == phone)
    return await last_event_id(session, phone), int(await session.scalar(sent) or 0)


async def behind(session: AsyncSession, ids: list[int]) -> list[int]:
    """Those of these linked instances that have events they have not taken in yet."""
    waiting = (
        select(SandboxEventRow.id)
        .where(
            SandboxEventRow.to_phone == SandboxLinkRow.phone,
            SandboxEventRow.id > SandboxLinkRow.cursor,
        )
        .exists()
    )
    stmt = select(SandboxLinkRow.id_instance).where(SandboxLinkRow.id_instance.in_(ids), waiting)
    return list(await session.scalars(stmt))


async def cursor_of(session: AsyncSession, id_instance: int) -> int:
    stmt = select(SandboxLinkRow.cursor).where(SandboxLinkRow.id_instance == id_instance)
    return int(await session.scalar(stmt) or 0)


async def advance_cursor(session: AsyncSession, id_instance: int, cursor: int) -> None:
    await session.execute(
        update(SandboxLinkRow)
        .where(SandboxLinkRow.id_instance == id_instance, SandboxLinkRow.cursor < cursor)
        .values(cursor=cursor)
    )


async def inbox(session: AsyncSession, phone: str, *, limit: int) -> list[SandboxEvent]:
    """The newest messages a virtual phone received, oldest first."""
    rows = await session.execute(
        select(
            SandboxEventRow.id,
            SandboxEventRow.kind,
            SandboxEventRow.from_phone,
            SandboxEventRow.id_message,
            SandboxEventRow.payload,
            SandboxEventRow.at_ms,
        )
        .where(SandboxEventRow.to_phone == phone, SandboxEventRow.kind == MESSAGE)
        .order_by(SandboxEventRow.id.desc())
        .limit(limit)
    )
    return [SandboxEvent(*r) for r in reversed(rows.all())]


async def messages_from(session: AsyncSession, *, to_phone: str, from_phone: str) -> list[str]:
    """Ids of the messages ``from_phone`` sent to ``to_phone``."""
    stmt = select(SandboxEventRow.id_message).where(
        SandboxEventRow.to_phone == to_phone,
        SandboxEventRow.from_phone == from_phone,
        SandboxEventRow.kind == MESSAGE,
    )
    return list(await session.scalars(stmt))


async def senders_of(
    session: AsyncSession, phone: str, id_messages: list[str]
) -> dict[str, list[str]]:
    """Who sent ``phone`` each of these messages: ids by sender."""
    rows = await session.execute(
        select(SandboxEventRow.from_phone, SandboxEventRow.id_message).where(
            SandboxEventRow.to_phone == phone,
            SandboxEventRow.kind == MESSAGE,
            SandboxEventRow.id_message.in_(id_messages),
        )
    )
    found: dict[str, list[str]] = {}
    for sender, id_message in rows:
        found.setdefault(sender, []).append(id_message)
    return found


@dataclass(frozen=True, slots=True)
class SandboxEvent:
    id: int
    kind: str
    from_phone: str
    id_message: str
    payload: str
    at_ms: int
