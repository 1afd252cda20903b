"""How the GREEN-API façade shows domain errors: one table per API family."""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any, ClassVar

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import Response

from fleetgate.api.responses import OrjsonResponse
from fleetgate.errors import (
    BodyTooLarge,
    Exhausted,
    FleetgateError,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotReady,
    RateLimited,
)

log = logging.getLogger(__name__)

# Domain error -> (HTTP status, body code, fixed description or None to use the error's text).
ErrorTable = dict[type[FleetgateError], tuple[int, int, str | None]]

# GREEN-API answers 401 and 404 of the partner API with HTTP 200 and a {"code", "description"}
# body; Go clients compare the 401 body byte for byte. Bad input gets a real HTTP 400 (see
# docs/green-api.md for why).
PARTNER_ERRORS: ErrorTable = {
    NotAuthenticated: (200, 401, "Unauthorized"),
    NotFound: (200, 404, "Not found"),
    BodyTooLarge: (413, 413, None),
    InvalidInput: (400, 400, None),
    Exhausted: (503, 503, None),
    # Too many failed token checks (api/authguard.py): a real 429 with Retry-After.
    RateLimited: (429, 429, "Too Many Requests"),
}

# The instance API uses real HTTP statuses: 401 wrong token, 403 unknown or deleted instance.
INSTANCE_ERRORS: ErrorTable = {
    NotAuthenticated: (401, 401, "Unauthorized"),
    Forbidden: (403, 403, "Forbidden"),
    NotFound: (404, 404, None),
    BodyTooLarge: (413, 413, None),
    InvalidInput: (400, 400, None),
    NotReady: (400, 400, None),
    RateLimited: (429, 429, "Too Many Requests"),
}


def error_response(table: ErrorTable, exc: FleetgateError) -> Response:
    """The response ``table`` prescribes for a domain error."""
    for kind in type(exc).__mro__:
        if kind in table:
            status, code, fixed = table[kind]
            response = OrjsonResponse({"code": code, "description": fixed or exc.message}, status)
            if isinstance(exc, RateLimited):
                # The official client's urllib3 Retry sleeps this long before trying again.
                response.headers["Retry-After"] = str(exc.retry_after_s)
            return response
    log.error("unmapped domain error %s: %s", type(exc).__name__, exc.message)
    return OrjsonResponse({"code": 500, "description": "Internal Server Error"}, 500)


class _MappedRoute(APIRoute):
    """An APIRoute whose domain errors come out in its API family's format."""

    errors: ClassVar[ErrorTable]

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        table = self.errors

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except FleetgateError as exc:
                return error_response(table, exc)

        return handle


class PartnerRoute(_MappedRoute):
    errors = PARTNER_ERRORS


class InstanceRoute(_MappedRoute):
    errors = INSTANCE_ERRORS
