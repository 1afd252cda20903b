"""Dead letters over HTTP: a partner lists and replays notifications that were not delivered."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.bodies import Int64, json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.errors import InvalidInput
from fleetgate.ids import digits_value, is_digits
from fleetgate.services import notifications
from fleetgate.services.dead_letters import dead_letter_json

router = APIRouter(prefix="/admin", tags=["admin"], route_class=PlainRoute)

LIST_MAX = 1000


class ReplayBody(BaseModel):
    """The dead letters to queue again (at the tail of their instance's queue)."""

    model_config = ConfigDict(extra="forbid", strict=True)
    ids: list[Int64] = Field(min_length=1, max_length=LIST_MAX)


@router.get("/dead-letters")
async def list_dead_letters(
    partner: PartnerDep, ctx: ContextDep, idInstance: str | None = None, limit: str = "100"
) -> Response:
    """The partner's dead letters, oldest first (optionally of one instance)."""
    if not is_digits(limit) or not 1 <= digits_value(limit) <= LIST_MAX:
        raise InvalidInput(f"limit must be from 1 to {LIST_MAX}")
    if idInstance is not None and not is_digits(idInstance):
        raise InvalidInput("idInstance must be an integer")
    if idInstance is not None and digits_value(idInstance) >= 2**63:
        return OrjsonResponse({"deadLetters": []})  # no instance has such an id
    found = await notifications.list_dead(
        db=ctx.db,
        partner_id=partner.id,
        instance_ids=None if idInstance is None else [digits_value(idInstance)],
        limit=digits_value(limit),
    )
    return OrjsonResponse({"deadLetters": [dead_letter_json(d) for d in found]})


@router.post("/dead-letters/replay", openapi_extra=json_body(ReplayBody))
async def replay_dead_letters(partner: PartnerDep, request: Request, ctx: ContextDep) -> Response:
    """Queue the named dead letters again; answers the new receipt ids."""
    body = parse_body(ReplayBody, await read_json(request, ctx.settings.http.max_body_bytes))
    fresh = await notifications.replay(
        db=ctx.db, signals=ctx.signals, partner_id=partner.id, ids=body.ids
    )
    return OrjsonResponse({"replayed": [q.id for q in fresh]})
