"""How the Z-API façade shows errors: ``{"error": text}`` with a fitting HTTP status."""

from __future__ import annotations

import re

from fleetgate.api.errors import ErrorFormat, MappedRoute, answers, error_body
from fleetgate.errors import (
    BodyTooLarge,
    Conflict,
    Exhausted,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotReady,
    RateLimited,
)


class NotJson(InvalidInput):
    """A request body sent without a JSON Content-Type (Z-API answers 415)."""


ZAPI_ERRORS = ErrorFormat(
    body=error_body,
    table=answers(
        {
            NotAuthenticated: 401,
            Forbidden: 403,
            NotFound: 404,
            Conflict: 409,
            NotJson: 415,
            BodyTooLarge: 413,
            InvalidInput: 400,
            NotReady: 400,
            Exhausted: 503,
            RateLimited: 429,
        }
    ),
    paths=re.compile("/instances(/|$)"),
    challenge="Bearer",
)


class ZapiRoute(MappedRoute):
    error_format = ZAPI_ERRORS
