"""How the Z-API façade shows errors: ``{"error": text}`` with a fitting HTTP status."""

from __future__ import annotations

from typing import ClassVar

from fleetgate.api.bearer import PlainErrorRoute, StatusTable
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


class ZapiRoute(PlainErrorRoute):
    statuses: ClassVar[StatusTable] = {
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
