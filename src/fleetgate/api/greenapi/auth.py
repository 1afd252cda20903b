"""Authentication for the GREEN-API instance URL ``/waInstance{id}/{method}/{token}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from fleetgate.api.authguard import admit
from fleetgate.api.deps import ContextDep
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.ids import parse_instance_id
from fleetgate.services import account

PREFIX = "/waInstance{idInstance}"


async def authenticated_instance(
    idInstance: str, apiTokenInstance: str, request: Request, ctx: ContextDep
) -> InstanceView:
    """The instance named by the URL, if the token in the URL is its current token."""
    id_instance = parse_instance_id(idInstance)
    if id_instance is None:
        raise InvalidInput("Parameter idInstance not an integer")
    guard = admit(request, ctx, str(id_instance))
    return await guard.check(
        account.authenticate_instance(
            cache=ctx.instance_cache,
            cipher=ctx.cipher,
            id_instance=id_instance,
            token=apiTokenInstance,
        )
    )


InstanceDep = Annotated[InstanceView, Depends(authenticated_instance)]
