"""GREEN-API partner methods: createInstance, getInstances, deleteInstanceAccount."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from fleetgate.api.authguard import admit
from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.errors import PartnerRoute
from fleetgate.api.greenapi.wire import (
    CreateInstanceBody,
    DeleteInstanceBody,
    to_patch,
)
from fleetgate.api.responses import OrjsonResponse
from fleetgate.clock import DAY_MS, green_time, now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceListing
from fleetgate.domain.partners import Partner
from fleetgate.errors import FleetgateError
from fleetgate.services import instances, partners

router = APIRouter(prefix="/partner", tags=["GREEN-API partner"], route_class=PartnerRoute)

METHODS = ("createInstance", "getInstances", "deleteInstanceAccount")


@dataclass(frozen=True, slots=True)
class _Body:
    """A parsed JSON body, or the error reading it gave (raised only after the token check)."""

    data: Any = None
    error: FleetgateError | None = None

    def unwrap(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.data


async def _json_or_error(request: Request, ctx: Context) -> _Body:
    try:
        return _Body(data=await read_json(request, ctx.settings.http.max_body_bytes))
    except FleetgateError as exc:
        return _Body(error=exc)


async def _partner(ctx: Context, request: Request, token: str) -> Partner:
    guard = admit(request, ctx)
    async with ctx.db.reading() as session:
        return await guard.check(partners.authenticate_partner(session=session, token=token))


@router.post("/createInstance/{partnerToken}", openapi_extra=json_body(CreateInstanceBody))
async def create_instance(partnerToken: str, request: Request, ctx: ContextDep) -> Response:
    """Create an instance with any subset of its settings; returns its id and token."""
    data = await _json_or_error(request, ctx)
    partner = await _partner(ctx, request, partnerToken)
    body = parse_body(CreateInstanceBody, data.unwrap())
    # Written together with the other creates waiting (services/create_batch.py).
    order = instances.instance_order(
        partner=partner, provisioning=ctx.provisioning, patch=to_patch(body)
    )
    created = await ctx.creates.create(order)
    return OrjsonResponse(
        {
            "idInstance": created.id_instance,
            "apiTokenInstance": created.api_token,
            "typeInstance": created.type_instance,
        }
    )


@router.get("/getInstances/{partnerToken}")
async def get_instances(partnerToken: str, request: Request, ctx: ContextDep) -> Response:
    """Every instance of the partner, deleted ones included, as one JSON array (streamed)."""
    partner = await _partner(ctx, request, partnerToken)
    return StreamingResponse(_stream_listing(ctx, partner), media_type="application/json")


@router.post("/deleteInstanceAccount/{partnerToken}", openapi_extra=json_body(DeleteInstanceBody))
async def delete_instance_account(partnerToken: str, request: Request, ctx: ContextDep) -> Response:
    """Delete one of the partner's instances; it stays listed with `deleted: true`."""
    data = await _json_or_error(request, ctx)
    guard = admit(request, ctx)
    async with ctx.db.transaction() as session:
        partner = await guard.check(
            partners.authenticate_partner(session=session, token=partnerToken)
        )
        body = parse_body(DeleteInstanceBody, data.unwrap())
        await instances.delete_instance(
            session=session, signals=ctx.signals, partner=partner, id_instance=body.idInstance
        )
    return OrjsonResponse({"deleteInstanceAccount": True})


async def _stream_listing(ctx: Context, partner: Partner) -> AsyncIterator[bytes]:
    # Rows are read and sent a batch at a time, so memory stays flat however many there are.
    yield b"["
    first = True
    now = now_ms()
    async with ctx.db.reading() as session:
        batches = instances.list_instances(session=session, cipher=ctx.cipher, partner=partner)
        async for batch in batches:
            chunk = orjson.dumps([_listing_item(item, now) for item in batch])[1:-1]
            yield chunk if first else b"," + chunk
            first = False
    yield b"]"


def _listing_item(item: InstanceListing, now: int) -> dict[str, Any]:
    deleted = item.deleted_ms is not None
    return {
        "idInstance": item.id_instance,
        "name": item.name,
        "typeInstance": item.type_instance,
        "typeAccount": "",
        "partnerUserUiid": "",
        "timeCreated": green_time(item.created_ms),
        "timeDeleted": green_time(item.deleted_ms),
        "apiTokenInstance": item.api_token,
        "deleted": deleted,
        "tariff": item.tariff,
        "isFree": False,
        "isPartner": True,
        "expirationDate": green_time(_paid_until(item, now)),
        "isExpired": item.expires_ms is not None and item.expires_ms <= now,
    }


def _paid_until(item: InstanceListing, now: int) -> int:
    """A fixed expiry, or for auto-renewing instances the next daily renewal after now.

    A deleted instance's last renewal is the first one after it was deleted.
    """
    if item.expires_ms is not None:
        return item.expires_ms
    ref = item.deleted_ms if item.deleted_ms is not None else now
    days = max(1, (ref - item.created_ms) // DAY_MS + 1)
    return item.created_ms + days * DAY_MS
