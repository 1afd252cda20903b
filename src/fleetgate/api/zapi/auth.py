"""Who is calling: partners (Bearer token, or the account Client-Token) and instances.

Instance routes carry the instance id and token in the path, and the account Client-Token in
a header once the partner has turned it on.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Header, Request

from fleetgate.api.authguard import admit
from fleetgate.api.bearer import PartnerDep, bearer_partner
from fleetgate.api.bodies import M, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.zapi.errors import NotJson
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.partners import Partner
from fleetgate.errors import Forbidden, NotAuthenticated, NotFound
from fleetgate.ids import parse_instance_id
from fleetgate.services import account, partners, subscriptions

NOT_FOUND = "Instance not found"
ClientToken = Annotated[str | None, Header(alias="Client-Token")]


def instance_id(text: str) -> int:
    """The numeric id in the path; a malformed one is simply not found."""
    found = parse_instance_id(text)
    if found is None:
        raise NotFound(NOT_FOUND)
    return found


async def zapi_instance(
    instanceId: str,
    token: str,
    request: Request,
    ctx: ContextDep,
    client_token: ClientToken = None,
) -> InstanceView:
    """The live instance named by the path, if the token fits and the Client-Token too."""
    id_instance = instance_id(instanceId)
    guard = admit(request, ctx, str(id_instance))
    try:
        instance = await guard.check(
            account.authenticate_instance(
                cache=ctx.instance_cache, cipher=ctx.cipher, id_instance=id_instance, token=token
            )
        )
    except (Forbidden, NotAuthenticated):
        raise NotFound(NOT_FOUND) from None
    async with ctx.db.reading() as session:
        await guard.check(
            partners.check_client_token(
                session=session, partner_id=instance.partner_id, token=client_token
            )
        )
    return instance


async def owned_instance(
    instanceId: str, token: str, partner: PartnerDep, request: Request, ctx: ContextDep
) -> InstanceView:
    """For partner routes on one instance: the partner's instance (expired ones too)."""
    id_instance = instance_id(instanceId)
    guard = admit(request, ctx, str(id_instance))
    async with ctx.db.reading() as session:
        return await guard.check(
            subscriptions.partner_instance(
                session=session,
                cipher=ctx.cipher,
                partner=partner,
                id_instance=id_instance,
                token=token,
            ),
            failures=(NotFound,),
        )


async def creating_partner(
    ctx: ContextDep, request: Request, client_token: ClientToken = None
) -> Partner:
    """The Bearer partner token, or else the account Client-Token, names the partner."""
    if request.headers.get("authorization") or not client_token:
        return await bearer_partner(ctx, request, request.headers.get("authorization", ""))
    guard = admit(request, ctx)
    async with ctx.db.reading() as session:
        return await guard.check(
            partners.partner_by_client_token(session=session, token=client_token)
        )


async def json_body(request: Request, ctx: Context, limit: int | None = None) -> Any:
    """The JSON body (None if empty); one with another Content-Type is refused (415). At most
    ``limit`` bytes (default: the HTTP setting), 413 beyond."""
    data = await read_json(request, limit or ctx.settings.http.max_body_bytes)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if data is not None and kind != "application/json" and not kind.endswith("+json"):
        raise NotJson("Content-Type must be application/json")
    return data


async def parsed(model: type[M], request: Request, ctx: Context, limit: int | None = None) -> M:
    """The JSON body validated by ``model``."""
    return parse_body(model, await json_body(request, ctx, limit))


InstanceDep = Annotated[InstanceView, Depends(zapi_instance)]
OwnedDep = Annotated[InstanceView, Depends(owned_instance)]
CreatorDep = Annotated[Partner, Depends(creating_partner)]
