"""The console's own instance routes: create and delete with the partner's Bearer token.

GREEN-API's partner methods take the partner token in the URL path, which the console never
puts in a URL (paths reach logs and browser history); Z-API's delete follows subscription
rules a GREEN-API partner does not have. These two routes call the same services as
createInstance and deleteInstanceAccount with the token in the ``Authorization`` header.
Settings other than the name are then set with GREEN-API setSettings, whose validation errors
the console shows by field.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.bodies import NO_CONTROL, json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.domain.config import ConfigPatch
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import is_digits, parse_instance_id
from fleetgate.services import deleted_instances, instances

router = APIRouter(prefix="/console/api", tags=["console"], route_class=PlainRoute)
NAME_MAX = 255
_PAGE_DIGITS = 9


class CreateBody(BaseModel):
    """A new instance; without a name it is called ``Instance <idInstance>``."""

    model_config = ConfigDict(extra="forbid", strict=True)
    name: str | None = Field(None, min_length=1, max_length=NAME_MAX, pattern=NO_CONTROL)


def instance_id(text: str) -> int:
    found = parse_instance_id(text)
    if found is None:
        raise NotFound("Instance not found")
    return found


@router.post(
    "/instances",
    openapi_extra=json_body(CreateBody),
)
async def create_instance(partner: PartnerDep, request: Request, ctx: ContextDep) -> Response:
    """Create an instance of the partner; its id and token (the token is shown once)."""
    body = parse_body(CreateBody, await read_json(request, ctx.settings.http.max_body_bytes))
    order = instances.instance_order(
        partner=partner, provisioning=ctx.provisioning, patch=ConfigPatch(name=body.name)
    )
    created = await ctx.creates.create(order)
    return OrjsonResponse(
        {"idInstance": created.id_instance, "apiTokenInstance": created.api_token}, 201
    )


@router.delete("/instances/{idInstance}")
async def delete_instance(idInstance: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """Delete one of the partner's instances (it stays listed as deleted)."""
    id_instance = instance_id(idInstance)
    async with ctx.db.transaction() as session:
        try:
            await instances.delete_instance(
                session=session, signals=ctx.signals, partner=partner, id_instance=id_instance
            )
        except NotFound:
            raise NotFound("Instance not found") from None
    return OrjsonResponse({"deleted": True})


def _number(name: str, text: str) -> int:
    if not is_digits(text) or len(text) > _PAGE_DIGITS:
        raise InvalidInput(f"{name} must be a positive integer")
    return int(text)


@router.get("/instances/deleted")
async def list_deleted(
    partner: PartnerDep, ctx: ContextDep, page: str = "1", pageSize: str = "20"
) -> Response:
    """A page of the partner's deleted instances, the latest deletion first."""
    number, size = _number("page", page), _number("pageSize", pageSize)
    async with ctx.db.reading() as session:
        found = await deleted_instances.deleted_page(
            session=session, partner=partner, page=number, page_size=size
        )
    return OrjsonResponse(
        {
            "total": found.total,
            "totalPage": found.total_pages,
            "page": number,
            "pageSize": size,
            "content": [
                {
                    "id": str(item.id_instance),
                    "name": item.name,
                    "createdMs": item.created_ms,
                    "deletedMs": item.deleted_ms,
                }
                for item in found.items
            ],
        }
    )
