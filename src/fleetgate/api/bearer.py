"""Plain JSON APIs (sandbox, admin): partner token as a Bearer header, errors as {"error": text}."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Header, Request
from fastapi.routing import APIRoute
from starlette.responses import Response

from fleetgate.api.authguard import admit
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.errors import (
    BodyTooLarge,
    FleetgateError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotReady,
    RateLimited,
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
        RateLimited: 429,
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
                return OrjsonResponse({"error": text}, status, headers=_headers(exc, status))

        return handle


def _headers(exc: FleetgateError, status: int) -> dict[str, str] | None:
    if isinstance(exc, RateLimited):
        return {"Retry-After": str(exc.retry_after_s)}
    return {"WWW-Authenticate": "Bearer"} if status == 401 else None


async def bearer_partner(
    ctx: ContextDep, request: Request, authorization: Annotated[str, Header()] = ""
) -> Partner:
    """The partner whose token is in ``Authorization: Bearer <token>``.

    A missing header is no guess and is not counted; a wrong token is (api/authguard.py).
    """
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        raise NotAuthenticated("Unauthorized")
    guard = admit(request, ctx)
    async with ctx.db.reading() as session:
        return await guard.check(
            partners.authenticate_partner(session=session, token=token.strip())
        )


PartnerDep = Annotated[Partner, Depends(bearer_partner)]
