"""The sandbox network's virtual phones, as a partner drives them over HTTP (api/sandbox.py).

The network is shared: a phone number belongs to the first partner that uses it, and only that
partner acts as the phone. A partner's phones link only to that partner's instances. Every
function here runs in the caller's transaction; one that refuses raises inside it, so a refused
attempt takes no number.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.files import StoredFile
from fleetgate.domain.partners import Partner
from fleetgate.engines.base import StatusRecord
from fleetgate.engines.sandbox import network, statuses
from fleetgate.engines.sandbox.network import SandboxEvent
from fleetgate.errors import NotFound
from fleetgate.ids import new_message_id
from fleetgate.services import engine_calls
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.signals import Signals

# The same answer whoever holds the number and whatever it holds: it tells another partner only
# that the number is not theirs to use, never who has it, its links or its messages.
NOT_YOURS = "this number is not one of your phones"
NO_SUCH_INSTANCE = "no such instance"
QR_REFUSED = "no instance of yours shows this QR code now (it rotates every 20 s)"
CODE_REFUSED = "no pairing code like this was issued for this phone, or it expired"


async def claim(*, session: AsyncSession, partner: Partner, phone: str) -> str:
    """``phone``, once the partner holds it (the first partner to use a number holds it)."""
    if not await network.claim_phone(session, phone, partner.id):
        raise NotFound(NOT_YOURS)
    return phone


async def owner_of(*, session: AsyncSession, phone: str) -> int | None:
    """The partner holding ``phone``, or None while nobody does."""
    return await network.owner_of(session, phone)


async def link_by_qr(
    *, session: AsyncSession, signals: Signals, partner: Partner, phone: str, payload: str
) -> int:
    """The phone scans a QR one of the partner's instances shows; the instance it linked."""
    own = await claim(session=session, partner=partner, phone=phone)
    linked = await network.scan_qr(
        session, signals, phone=own, payload=payload, partner_id=partner.id
    )
    if linked is None:
        raise NotFound(QR_REFUSED)
    return linked


async def link_by_code(
    *, session: AsyncSession, signals: Signals, partner: Partner, phone: str, code: str
) -> int:
    """The phone types a pairing code issued for it; the instance it linked."""
    own = await claim(session=session, partner=partner, phone=phone)
    linked = await network.enter_code(session, signals, phone=own, code=code, partner_id=partner.id)
    if linked is None:
        raise NotFound(CODE_REFUSED)
    return linked


async def log_out(
    *, session: AsyncSession, signals: Signals, partner: Partner, phone: str
) -> list[int]:
    """The phone unlinks every instance of the partner it is linked to; their ids."""
    own = await claim(session=session, partner=partner, phone=phone)
    return await network.phone_logout(session, signals, phone=own, partner_id=partner.id)


async def instance_qr(
    *, db: Database, signals: Signals, partner: Partner, id_instance: int
) -> dict[str, Any]:
    """What the partner's instance's current QR encodes, and when it expires."""
    async with db.reading() as session:
        found = await instances_repo.view(session, id_instance, now=now_ms())
    if found is None or found[0].partner_id != partner.id:
        raise NotFound(NO_SUCH_INSTANCE)
    answer: dict[str, Any] = await engine_calls.call_engine(
        db=db, signals=signals, id_instance=id_instance, method=engine_calls.QR, args={}
    )
    return answer


async def send_text(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    to_phone: str,
    text: str,
) -> str:
    """The phone writes a text to a number (an instance's, or another phone); its idMessage."""
    data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}
    return await send_message(
        session=session,
        signals=signals,
        partner=partner,
        phone=phone,
        to_phone=to_phone,
        message_data=data,
    )


async def send_message(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    to_phone: str,
    message_data: dict[str, Any],
    file: StoredFile | None = None,
) -> str:
    """The phone sends a message (with its file, already stored) to a number; its idMessage."""
    await claim(session=session, partner=partner, phone=phone)
    return await post(session, signals, phone, to_phone, message_data, file)


async def post(
    session: AsyncSession,
    signals: Signals,
    phone: str,
    to_phone: str,
    message_data: dict[str, Any],
    file: StoredFile | None = None,
) -> str:
    """Post a message of a phone its caller has already claimed; its idMessage."""
    id_message = new_message_id()
    payload: dict[str, Any] = {"messageData": message_data, "senderName": phone}
    if file is not None:
        payload["file"] = file.as_json()
    await network.post_message(
        session,
        signals,
        from_phone=phone,
        to_phone=to_phone,
        id_message=id_message,
        payload=payload,
    )
    return id_message


async def post_status(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    message_data: dict[str, Any],
    file: StoredFile | None = None,
) -> str:
    """The phone posts a status to its contacts (with its file, already stored); its id."""
    await claim(session=session, partner=partner, phone=phone)
    id_message = new_message_id()
    media = None if file is None else {"owner": None, "key": file.key}
    await statuses.post(
        session,
        signals,
        from_phone=phone,
        id_message=id_message,
        message_data=message_data,
        participants=[],
        media=media,
    )
    return id_message


async def statuses_seen(
    *, session: AsyncSession, partner: Partner, phone: str, since_ms: int
) -> list[StatusRecord]:
    """The statuses the phone received (from instances and phones), newest first."""
    await claim(session=session, partner=partner, phone=phone)
    return await statuses.incoming(session, phone=phone, since_ms=since_ms, limit=1000)


async def view_status(
    *, session: AsyncSession, partner: Partner, phone: str, sender: str, id_message: str
) -> bool:
    """The phone views a status it received: its sender sees it read."""
    await claim(session=session, partner=partner, phone=phone)
    return await statuses.view(session, viewer=phone, sender=sender, id_message=id_message)


async def inbox(*, session: AsyncSession, phone: str, limit: int) -> list[SandboxEvent]:
    """The newest ``limit`` messages the phone received, oldest first."""
    return await network.inbox(session, phone, limit=limit)


async def read_chat(
    *, session: AsyncSession, signals: Signals, partner: Partner, phone: str, sender: str
) -> int:
    """The phone reads its chat with ``sender``, who gets read receipts; how many messages."""
    await claim(session=session, partner=partner, phone=phone)
    ids = await network.messages_from(session, to_phone=phone, from_phone=sender)
    await network.post_receipts(
        session, signals, from_phone=phone, to_phone=sender, id_messages=ids, status="read"
    )
    return len(ids)


async def show_presence(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    to_phone: str,
    status: str,
) -> None:
    """The phone shows itself online, typing, recording, ... in its chat with ``to_phone``."""
    await claim(session=session, partner=partner, phone=phone)
    await network.post_presence(
        session, signals, from_phone=phone, to_phone=to_phone, status=status
    )
