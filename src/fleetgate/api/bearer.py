"""Plain JSON APIs (sandbox, admin): partner token as a Bearer header, errors as {"error": text}."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.errors import (
    BodyTooLarge,
    FleetgateError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotReady,
)
from fleetgate.services import partners
from fleetgate.services.types import Partner

StatusTable = dict[type[FleetgateError], int]


class PlainErrorRoute(APIRoute):
    """Domain errors as ``{"error": text}`` with a fitting HTTP status."""

    statuses: ClassVar[StatusTable] = {
        NotAuthenticated: 401,
        BodyTooLarge: 413,
        NotFound: 404,
        InvalidInput: 400,
        NotReady: 503,
    }

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        table = self.statuses

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except FleetgateError as exc:
                status = next((table[k] for k in type(exc).__mro__ if k in table), 500)
                text = exc.message or ("Unauthorized" if status == 401 else "error")
                headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
                return OrjsonResponse({"error": text}, status, headers=headers)

        return handle


async def bearer_partner(ctx: ContextDep, authorization: Annotated[str, Header()] = "") -> Partner:
    """The partner whose token is in ``Authorization: Bearer <token>``."""
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise NotAuthenticated("Unauthorized")
    async with ctx.db.reading() as session:
        return await partners.authenticate_partner(session=session, token=token.strip())


PartnerDep = Annotated[Partner, Depends(bearer_partner)]
