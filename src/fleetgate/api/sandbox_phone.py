"""The sandbox phone a partner's request names: a valid number, and the partner's own.

Shared by the sandbox routes and the console's sandbox page stream (one façade does not import
another).
"""

from __future__ import annotations

from fleetgate.context import Context
from fleetgate.domain.partners import Partner
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import is_phone
from fleetgate.services import sandbox_phones
from fleetgate.services.sandbox_phones import NOT_YOURS


def phone_number(phone: str) -> str:
    """The number as given, once it is one (digits with the country code)."""
    if not is_phone(phone):
        raise InvalidInput("phone must be 7 to 15 digits with the country code")
    return phone


async def own_phone(ctx: Context, partner: Partner, phone: str) -> str:
    """The phone, once it is the partner's: what a list route checks before reading. It reads
    unless the number is free: claiming writes, so only a first use takes a write transaction
    (a page reads its phone's lists on each change)."""
    phone = phone_number(phone)
    async with ctx.db.reading() as session:
        owner = await sandbox_phones.owner_of(session=session, phone=phone)
    if owner is None:
        async with ctx.db.transaction() as session:
            await sandbox_phones.claim(session=session, partner=partner, phone=phone)
    elif owner != partner.id:
        raise NotFound(NOT_YOURS)
    return phone
