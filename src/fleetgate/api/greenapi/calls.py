"""GREEN-API call journals: the calls placed to and by the instance."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from fleetgate.api.bodies import read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.journals import JOURNAL_MAX, minutes_of
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.responses import OrjsonResponse
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.chats import Call
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.messages import Direction
from fleetgate.services import chats

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API journals"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = ("lastIncomingCalls", "lastOutgoingCalls")


def call_item(call: Call) -> dict[str, Any]:
    """One call as the call journals show it (``timestamp``: its last change, its end)."""
    incoming = call.direction == Direction.IN
    item: dict[str, Any] = {
        "type": "incoming" if incoming else "outgoing",
        "idMessage": call.id_call,
        "timestamp": call.at_ms // 1000,
        "typeMessage": "incomingCall" if incoming else "outgoingCall",
        "chatId": call.chat_id,
    }
    if not incoming:
        item["duration"] = call.duration_s
    return item | {"isVideo": call.is_video, "status": call.status}


async def _calls(
    ctx: Context, instance: InstanceView, request: Request, direction: Direction, raw: str | None
) -> OrjsonResponse:
    span = minutes_of(raw, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        found = await chats.recent_calls(
            session=session,
            id_instance=instance.id_instance,
            direction=direction,
            since_ms=now_ms() - span * 60_000,
            limit=JOURNAL_MAX,
        )
    return OrjsonResponse([call_item(c) for c in found])


@router.get("/lastIncomingCalls/{apiTokenInstance}")
async def last_incoming_calls(
    instance: InstanceDep, request: Request, ctx: ContextDep, minutes: str | None = None
) -> OrjsonResponse:
    """Calls placed to the instance in the last ``minutes`` (default 1440), newest first."""
    return await _calls(ctx, instance, request, Direction.IN, minutes)


@router.get("/lastOutgoingCalls/{apiTokenInstance}")
async def last_outgoing_calls(
    instance: InstanceDep, request: Request, ctx: ContextDep, minutes: str | None = None
) -> OrjsonResponse:
    """Calls the account's phone placed in the last ``minutes`` (default 1440), newest first."""
    return await _calls(ctx, instance, request, Direction.OUT, minutes)
