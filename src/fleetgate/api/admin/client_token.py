"""The account Client-Token over HTTP: a partner turns it on (a new token) or off."""

from __future__ import annotations

from fastapi import APIRouter

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.services import partners

router = APIRouter(prefix="/admin", tags=["admin"], route_class=PlainRoute)


@router.post("/client-token")
async def enable_client_token(partner: PartnerDep, ctx: ContextDep) -> OrjsonResponse:
    """A new Client-Token, shown once; Z-API instance routes require it from now on."""
    async with ctx.db.transaction() as session:
        token = await partners.enable_client_token(session=session, partner=partner)
    return OrjsonResponse({"clientToken": token})


@router.delete("/client-token")
async def disable_client_token(partner: PartnerDep, ctx: ContextDep) -> OrjsonResponse:
    """Stop requiring a Client-Token; the old one stops working too."""
    async with ctx.db.transaction() as session:
        await partners.disable_client_token(session=session, partner=partner)
    return OrjsonResponse({"clientToken": None})
