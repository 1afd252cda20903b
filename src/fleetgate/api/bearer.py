"""The partner token as an ``Authorization: Bearer`` header (sandbox, admin, Z-API)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from fleetgate.api.authguard import admit
from fleetgate.api.deps import ContextDep
from fleetgate.domain.partners import Partner
from fleetgate.errors import NotAuthenticated
from fleetgate.services import partners


async def bearer_partner(
    ctx: ContextDep, request: Request, authorization: Annotated[str, Header()] = ""
) -> Partner:
    """The partner whose token is in ``Authorization: Bearer <token>``.

    A missing header is no guess and is not counted; a wrong token is (api/authguard.py).
    """
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise NotAuthenticated("Unauthorized")
    guard = admit(request, ctx)
    async with ctx.db.reading() as session:
        return await guard.check(
            partners.authenticate_partner(session=session, token=token.strip())
        )


PartnerDep = Annotated[Partner, Depends(bearer_partner)]
