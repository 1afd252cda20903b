"""Authentication for the GREEN-API instance URL ``/waInstance{id}/{method}/{token}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from fleetgate.api.deps import ContextDep
from fleetgate.errors import InvalidInput
from fleetgate.ids import is_digits
from fleetgate.services import account
from fleetgate.services.types import InstanceView

PREFIX = "/waInstance{idInstance}"
_ID_MAX_DIGITS = 19


async def authenticated_instance(
    idInstance: str, apiTokenInstance: str, ctx: ContextDep
) -> InstanceView:
    """The instance named by the URL, if the token in the URL is its current token."""
    if not is_digits(idInstance) or len(idInstance) > _ID_MAX_DIGITS:
        raise InvalidInput("Parameter idInstance not an integer")
    return await account.authenticate_instance(
        cache=ctx.instance_cache,
        cipher=ctx.cipher,
        id_instance=int(idInstance),
        token=apiTokenInstance,
    )


InstanceDep = Annotated[InstanceView, Depends(authenticated_instance)]
