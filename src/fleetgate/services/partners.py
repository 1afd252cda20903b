"""Partners: the accounts that own instances and hold a partner token."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.crypto import hash_partner_token, tokens_equal
from fleetgate.errors import InvalidInput, NotAuthenticated, NotFound
from fleetgate.ids import new_partner_token
from fleetgate.services.types import Partner

__all__ = ["Partner"]
from fleetgate.storage.repos import partners as repo

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,99}")
# Real tokens are short; anything much longer is refused before hashing.
_TOKEN_MAX = 200


async def create_partner(*, session: AsyncSession, name: str) -> tuple[Partner, str]:
    """Create a partner; returns it with its token, which is never shown again."""
    if not _NAME.fullmatch(name):
        raise InvalidInput(
            "partner name must be 1-100 characters: letters, digits, '.', '_', '@', '-'"
        )
    if await repo.by_name(session, name) is not None:
        raise InvalidInput(f"a partner named {name!r} already exists")
    token = new_partner_token()
    partner = await repo.insert(
        session, name=name, token_hash=hash_partner_token(token), now=now_ms()
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
