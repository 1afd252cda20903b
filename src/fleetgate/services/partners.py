"""Partners: the accounts that own instances and hold a partner token."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.crypto import hash_partner_token, tokens_equal
from fleetgate.domain.partners import Partner
from fleetgate.errors import Forbidden, InvalidInput, NotAuthenticated, NotFound
from fleetgate.ids import new_client_token, new_partner_token
from fleetgate.storage.repos import partners as repo

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
# Real tokens are short; anything much longer is refused before hashing.
_TOKEN_MAX = 200


async def create_partner(
    *, session: AsyncSession, name: str, engine: str | None = None
) -> tuple[Partner, str]:
    """Create a partner (its new instances run on ``engine``, or the server's default when
    None); returns it with its token, which is never shown again."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "partner name must be 1-100 characters: letters, digits, '.', '_', '@', '-'"
        )
    if await repo.by_name(session, name) is not None:
        raise InvalidInput(f"a partner named {name!r} already exists")
    token = new_partner_token()
    partner = await repo.insert(
        session, name=name, token_hash=hash_partner_token(token), now=now_ms(), engine=engine
    )
    return partner, token


async def authenticate_partner(*, session: AsyncSession, token: str) -> Partner:
    """The active partner holding this token, or NotAuthenticated."""
    if not token or len(token) > _TOKEN_MAX:
        raise NotAuthenticated()
    digest = hash_partner_token(token)
    found = await repo.by_token_hash(session, digest)
    if found is None:
        raise NotAuthenticated()
    partner, stored = found
    if not tokens_equal(stored, digest) or partner.revoked_ms is not None:
        raise NotAuthenticated()
    return partner


async def list_partners(*, session: AsyncSession) -> list[Partner]:
    """Every partner, revoked ones included, oldest first."""
    return await repo.all_partners(session)


async def count_active_partners(*, session: AsyncSession) -> int:
    """How many partners can still authenticate."""
    return await repo.count_active(session)


async def revoke_partner(*, session: AsyncSession, name: str) -> None:
    """Revoke a partner's token at once; its instances stay as they are."""
    if not await repo.revoke(session, name=name, now=now_ms()):
        raise NotFound(f"no active partner named {name!r}")


async def replace_partner_token(*, session: AsyncSession, name: str) -> tuple[str, bool]:
    """A new token for the partner, revoked or not (the old one stops working at commit).

    Returns the token, shown only this once, and whether the partner had been revoked (it is
    active again).
    """
    partner = await repo.by_name(session, name)
    if partner is None:
        raise NotFound(f"no partner named {name!r}")
    token = new_partner_token()
    await repo.replace_token(session, partner.id, hash_partner_token(token))
    return token, partner.revoked_ms is not None


async def partner_named(*, session: AsyncSession, name: str) -> Partner:
    """The active partner with this name, or NotFound."""
    partner = await repo.by_name(session, name)
    if partner is None or partner.revoked_ms is not None:
        raise NotFound(f"no active partner named {name!r}")
    return partner


async def enable_client_token(*, session: AsyncSession, partner: Partner) -> str:
    """Give the account a new Client-Token; from now on every instance route needs it."""
    token = new_client_token()
    await repo.set_client_token_digest(session, partner.id, hash_partner_token(token))
    return token


async def disable_client_token(*, session: AsyncSession, partner: Partner) -> None:
    """Stop asking for a Client-Token on the account's instance routes."""
    await repo.set_client_token_digest(session, partner.id, None)


async def partner_by_client_token(*, session: AsyncSession, token: str) -> Partner:
    """The active partner whose Client-Token this is, or NotAuthenticated."""
    if not token or len(token) > _TOKEN_MAX:
        raise NotAuthenticated()
    digest = hash_partner_token(token)
    partner = await repo.by_client_token_digest(session, digest)
    if partner is None or partner.revoked_ms is not None:
        raise NotAuthenticated()
    if not tokens_equal(partner.client_token_digest or "", digest):
        raise NotAuthenticated()
    return partner


async def check_client_token(*, session: AsyncSession, partner_id: int, token: str | None) -> None:
    """Pass if the partner has no Client-Token, or ``token`` is it.

    InvalidInput if it is required and missing (Z-API answers 400), Forbidden if it is wrong.
    """
    partner = await repo.by_id(session, partner_id)
    required = partner.client_token_digest if partner else None
    if required is None:
        return
    if not token:
        raise InvalidInput("your client-token is not configured")
    if len(token) > _TOKEN_MAX or not tokens_equal(hash_partner_token(token), required):
        raise Forbidden(f"Client-Token {token[:_TOKEN_MAX]} not allowed")
