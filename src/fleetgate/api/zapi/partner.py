"""Z-API integrator routes: list, create on demand, subscription, cancel, delete."""

from __future__ import annotations

from fastapi import APIRouter, Request

from fleetgate.api.authguard import admit
from fleetgate.api.bearer import PartnerDep
from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import wire
from fleetgate.api.zapi.auth import CreatorDep, OwnedDep, instance_id, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.config import check_text
from fleetgate.domain.partners import Partner
from fleetgate.errors import FleetgateError, InvalidInput, NotFound
from fleetgate.ids import is_digits
from fleetgate.services import subscriptions

router = APIRouter(prefix="/instances", tags=["Z-API partner"], route_class=ZapiRoute)
ON_DEMAND = "/{instanceId}/token/{token}/integrator/on-demand"
_MIDDLEWARES = ("web", "mobile")
_PAGE_DIGITS = 9
_QUERY_MAX = 255


def _page_number(name: str, text: str | None) -> int:
    if text is None or text == "":
        raise InvalidInput(f"{name} is required")
    if not is_digits(text) or len(text) > _PAGE_DIGITS:
        raise InvalidInput(f"{name} must be a positive integer")
    return int(text)


@router.get("")
async def list_instances(
    partner: PartnerDep,
    ctx: ContextDep,
    page: str | None = None,
    pageSize: str | None = None,
    query: str | None = None,
    middleware: str | None = None,
) -> OrjsonResponse:
    """A page of the partner's instances; ``query`` searches names and ids."""
    number = _page_number("page", page)
    size = _page_number("pageSize", pageSize)
    if query is not None:
        check_text("query", query, _QUERY_MAX)
    if middleware and middleware not in _MIDDLEWARES:
        raise InvalidInput("middleware must be web or mobile")
    async with ctx.db.reading() as session:
        found = await subscriptions.list_page(
            session=session,
            cipher=ctx.cipher,
            partner=partner,
            page=number,
            page_size=size,
            query=query,
            middleware=middleware or None,
        )
    now = now_ms()
    return OrjsonResponse(
        {
            "total": found.total,
            "totalPage": found.total_pages,
            "pageSize": size,
            "page": number,
            "content": [wire.list_item(i.instance, i.token, now) for i in found.items],
        }
    )


@router.post("/integrator/on-demand", openapi_extra=json_body(wire.CreateBody))
async def create_on_demand(
    partner: CreatorDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """A new instance in its trial, with any of its settings; its id, token and trial end."""
    body = await parsed(wire.CreateBody, request, ctx)
    order, due = subscriptions.trial_order(
        partner=partner,
        provisioning=ctx.provisioning,
        policy=ctx.subscription_policy,
        patch=body.patch(),
    )
    # Written together with the other creates waiting (services/create_batch.py).
    created = await ctx.creates.create(order)
    return OrjsonResponse({"id": str(created.id_instance), "token": created.api_token, "due": due})


@router.post(ON_DEMAND + "/subscription", openapi_extra=json_body(wire.WithCalls))
async def subscribe(instance: OwnedDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Subscribe the instance (ends a trial; undoes a cancellation)."""
    body = await parsed(wire.WithCalls, request, ctx)
    async with ctx.db.transaction() as session:
        await subscriptions.subscribe(
            session=session, signals=ctx.signals, instance=instance, with_calls=body.withCalls
        )
    return OrjsonResponse({"value": True}, 201)


@router.post(ON_DEMAND + "/cancel")
async def cancel(instance: OwnedDep, ctx: ContextDep) -> OrjsonResponse:
    """Cancel: a trial ends at once, a subscription at the end of its month."""
    async with ctx.db.transaction() as session:
        await subscriptions.cancel(session=session, signals=ctx.signals, instance=instance)
    return OrjsonResponse({"value": True}, 201)


@router.put(ON_DEMAND + "/subscription/update", openapi_extra=json_body(wire.WithCalls))
@router.put(
    "/{instanceId}/token/{token}/integrator/subscription/update",
    openapi_extra=json_body(wire.WithCalls),
)
async def update_subscription(
    instance: OwnedDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Add calls to the subscription (``{"withCalls": true}``; there is no downgrade)."""
    body = await parsed(wire.WithCalls, request, ctx)
    if body.withCalls is not True:
        raise InvalidInput("withCalls must be true (to remove calls, cancel and subscribe again)")
    async with ctx.db.transaction() as session:
        await subscriptions.add_calls(session=session, signals=ctx.signals, instance=instance)
    return OrjsonResponse({"value": True}, 201)


@router.delete(ON_DEMAND + "/delete")
async def delete(instance: OwnedDep, partner: PartnerDep, ctx: ContextDep) -> OrjsonResponse:
    """Delete the instance for good, if the deletion rules allow it now."""
    async with ctx.db.transaction() as session:
        await subscriptions.delete(
            session=session,
            signals=ctx.signals,
            partner=partner,
            instance=instance,
            policy=ctx.subscription_policy,
        )
    return OrjsonResponse({"value": True})


@router.post("/integrator/on-demand/batch-delete", openapi_extra=json_body(wire.BatchDelete))
async def batch_delete(partner: PartnerDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Delete several instances; each is answered on its own (``value`` or ``error``)."""
    body = await parsed(wire.BatchDelete, request, ctx)
    results = [await _delete_one(ctx, request, partner, ref) for ref in body.instances]
    return OrjsonResponse({"instances": results})


async def _delete_one(
    ctx: Context, request: Request, partner: Partner, ref: wire.InstanceRef
) -> dict[str, object]:
    try:
        id_instance = instance_id(ref.id)
        # Each token in the batch is a guess of its own: counted and refused one by one.
        guard = admit(request, ctx, str(id_instance))
        async with ctx.db.transaction() as session:
            instance = await guard.check(
                subscriptions.partner_instance(
                    session=session,
                    cipher=ctx.cipher,
                    partner=partner,
                    id_instance=id_instance,
                    token=ref.token,
                ),
                failures=(NotFound,),
            )
            await subscriptions.delete(
                session=session,
                signals=ctx.signals,
                partner=partner,
                instance=instance,
                policy=ctx.subscription_policy,
            )
    except FleetgateError as exc:
        return {"id": ref.id, "value": False, "error": exc.message}
    return {"id": ref.id, "value": True}
