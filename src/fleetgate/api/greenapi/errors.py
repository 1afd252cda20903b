"""How the GREEN-API façade shows domain errors: one format per API family (api/errors.py)."""

from __future__ import annotations

import re

from pydantic import BaseModel

from fleetgate.api.errors import Answer, ErrorFormat, MappedRoute
from fleetgate.errors import (
    BodyTooLarge,
    Exhausted,
    Forbidden,
    InvalidInput,
    NotAuthenticated,
    NotFound,
    NotReady,
    RateLimited,
)


def green_body(code: int, text: str) -> dict[str, object]:
    """``{"code", "description"}``, as GREEN-API answers errors."""
    return {"code": code, "description": text}


class GreenError(BaseModel):
    """An error, as GREEN-API answers it."""

    code: int
    description: str


_INTERNAL = Answer(500, 500, "Internal Server Error")

# GREEN-API answers 401 and 404 of the partner API with HTTP 200 and a {"code", "description"}
# body; Go clients compare the 401 body byte for byte. Bad input gets a real HTTP 400 (see
# docs/green-api.md for why).
PARTNER_ERRORS = ErrorFormat(
    body=green_body,
    table={
        NotAuthenticated: Answer(200, 401, "Unauthorized"),
        NotFound: Answer(200, 404, "Not found"),
        BodyTooLarge: Answer(413, 413),
        InvalidInput: Answer(400, 400),
        Exhausted: Answer(503, 503),
        # Too many failed token checks (api/authguard.py): a real 429 with Retry-After.
        RateLimited: Answer(429, 429, "Too Many Requests"),
    },
    paths=re.compile("/partner/"),
    unmapped=_INTERNAL,
    model=GreenError,
)

# The instance API uses real HTTP statuses: 401 wrong token, 403 unknown or deleted instance.
INSTANCE_ERRORS = ErrorFormat(
    body=green_body,
    table={
        NotAuthenticated: Answer(401, 401, "Unauthorized"),
        Forbidden: Answer(403, 403, "Forbidden"),
        NotFound: Answer(404, 404),
        BodyTooLarge: Answer(413, 413),
        InvalidInput: Answer(400, 400),
        NotReady: Answer(400, 400),
        RateLimited: Answer(429, 429, "Too Many Requests"),
    },
    paths=re.compile("/waInstance"),
    unmapped=_INTERNAL,
    model=GreenError,
)


class PartnerRoute(MappedRoute):
    error_format = PARTNER_ERRORS


class InstanceRoute(MappedRoute):
    error_format = INSTANCE_ERRORS
