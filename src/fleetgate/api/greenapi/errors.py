"""How the GREEN-API partner façade shows domain errors (one table)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from fleetgate.api.responses import OrjsonResponse
from fleetgate.errors import (
    BodyTooLarge,
    Exhausted,
    FleetgateError,
    InvalidInput,
    NotAuthenticated,
    NotFound,
)

log = logging.getLogger(__name__)

# Domain error -> (HTTP status, body code, fixed description or None to use the error's text).
# GREEN-API answers 401 and 404 of the partner API with HTTP 200 and a {"code", "description"}
# body; Go clients compare the 401 body byte for byte. Bad input gets a real HTTP 400 (see
# docs/green-api.md for why).
PARTNER_ERRORS: dict[type[FleetgateError], tuple[int, int, str | None]] = {
    NotAuthenticated: (200, 401, "Unauthorized"),
    NotFound: (200, 404, "Not found"),
    BodyTooLarge: (413, 413, None),
    InvalidInput: (400, 400, None),
    Exhausted: (503, 503, None),
}


def partner_error(exc: FleetgateError) -> Response:
    """The partner-API response for a domain error."""
    for kind in type(exc).__mro__:
        if kind in PARTNER_ERRORS:
            status, code, fixed = PARTNER_ERRORS[kind]
            return OrjsonResponse({"code": code, "description": fixed or exc.message}, status)
    return internal_error()


def internal_error() -> Response:
    return OrjsonResponse({"code": 500, "description": "Internal Server Error"}, 500)


class PartnerRoute(APIRoute):
    """An APIRoute whose domain errors come out in the partner API's own format."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except FleetgateError as exc:
                return partner_error(exc)

        return handle
