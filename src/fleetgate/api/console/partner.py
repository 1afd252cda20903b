"""The signed-in partner as the console shows it: its name and whether a Client-Token is on.

Turning the Client-Token on or off is the admin API's (``/admin/client-token``); no existing
route tells whether it is on, which the console's partner settings need to show.
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse

router = APIRouter(prefix="/console/api", tags=["console"], route_class=PlainRoute)


@router.get("/partner")
async def signed_in_partner(partner: PartnerDep) -> Response:
    """``{"name", "clientToken"}``: ``clientToken`` is true while Z-API routes require one."""
    return OrjsonResponse(
        {"name": partner.name, "clientToken": partner.client_token_digest is not None}
    )
