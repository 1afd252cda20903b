"""Domain errors as HTTP answers: one route class, and one small format object per façade.

A format says how its façade shows an error: the body shape, the status each domain error gets,
and which paths it answers for when no route matched. Every place that answers an error uses
it: the routes (``MappedRoute``), requests no route takes (api/fallback.py), database outages
(api/unavailable.py) and requests cut off at shutdown (api/middleware.py). A façade declares
its format and a route class with it; the others find it through that class.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any, ClassVar, NamedTuple

from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.requests import Request
from starlette.responses import Response

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

log = logging.getLogger(__name__)

# Texts of the errors the router itself raises (no route, wrong method).
HTTP_TEXT = {404: "Not found", 405: "Method Not Allowed"}
# The text of an error raised without a message.
_UNTOLD = {401: "Unauthorized"}


class Answer(NamedTuple):
    """How one kind of domain error is answered."""

    status: int
    # The code inside the body (GREEN-API's partner API answers 200 with a code 401 body).
    code: int
    # A fixed text instead of the error's own message.
    text: str | None = None


Body = Callable[[int, str], dict[str, object]]
# An error no table entry fits: a bug, answered as an internal error.
UNMAPPED = Answer(500, 500)


def error_body(_code: int, text: str) -> dict[str, object]:
    """``{"error": text}``: the plain APIs and Z-API."""
    return {"error": text}


class ErrorAnswer(BaseModel):
    """An error of the plain APIs and Z-API."""

    error: str


def answers(statuses: Mapping[type[FleetgateError], int]) -> dict[type[FleetgateError], Answer]:
    """A table of plain statuses: the body code is the HTTP status, the text the error's."""
    return {kind: Answer(status, status) for kind, status in statuses.items()}


@dataclass(frozen=True, slots=True)
class ErrorFormat:
    """How one façade (or one API family of it) shows errors."""

    body: Body
    # Domain error -> its answer; an error is answered as its nearest mapped base class.
    table: Mapping[type[FleetgateError], Answer]
    # Paths it answers for when no route took the request (None: it claims none).
    paths: re.Pattern[str] | None = None
    unmapped: Answer = UNMAPPED
    # The WWW-Authenticate header of a 401, if the façade sends one.
    challenge: str | None = None
    # The body's shape, for the OpenAPI document.
    model: type[BaseModel] = ErrorAnswer

    def documented(self) -> dict[int | str, dict[str, Any]]:
        """The error answers this format gives, as the ``responses`` of a route's operation.

        Every status of the table and the unmapped error's, the 503 of a database outage or
        a shutdown (api/unavailable.py, api/middleware.py), and where the format claims paths,
        the router's own 404 and 405. Answers given with HTTP 200 (GREEN-API's partner API)
        are not errors to a reader of the document and stay out.
        """
        statuses = {found.status for found in self.table.values()} | {self.unmapped.status, 503}
        if self.paths is not None:
            statuses |= set(HTTP_TEXT)
        return {
            status: {"model": self.model, "description": HTTPStatus(status).phrase}
            for status in sorted(statuses)
            if status >= 400
        }

    def answer(self, status: int, text: str, headers: Mapping[str, str] | None = None) -> Response:
        """An answer of ``status`` with ``text`` in this format's body."""
        return OrjsonResponse(self.body(status, text), status, headers=headers)

    def respond(self, exc: FleetgateError) -> Response:
        """The response this format prescribes for a domain error."""
        found = next((self.table[k] for k in type(exc).__mro__ if k in self.table), None)
        if found is None:
            log.error("unmapped domain error %s: %s", type(exc).__name__, exc.message)
            found = self.unmapped
        text = found.text or exc.message or _UNTOLD.get(found.status, "error")
        headers: dict[str, str] = {}
        if isinstance(exc, RateLimited):
            # The official clients' retries sleep this long before trying again.
            headers["Retry-After"] = str(exc.retry_after_s)
        elif found.status == 401 and self.challenge:
            headers["WWW-Authenticate"] = self.challenge
        return OrjsonResponse(self.body(found.code, text), found.status, headers=headers or None)


def error_response(fmt: ErrorFormat, exc: FleetgateError) -> Response:
    """The response ``fmt`` prescribes for a domain error."""
    return fmt.respond(exc)


# The plain JSON APIs (sandbox, admin), and every route that declares no format of its own.
PLAIN_ERRORS = ErrorFormat(
    body=error_body,
    table=answers(
        {
            NotAuthenticated: 401,
            BodyTooLarge: 413,
            NotFound: 404,
            InvalidInput: 400,
            NotReady: 503,
            RateLimited: 429,
        }
    ),
    challenge="Bearer",
)


class MappedRoute(APIRoute):
    """An APIRoute whose domain errors come out in its façade's format."""

    error_format: ClassVar[ErrorFormat] = PLAIN_ERRORS

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Every route of a façade declares its error answers: the format's, once for all of
        # them, under whatever the route itself declares.
        kwargs["responses"] = {**self.error_format.documented(), **(kwargs.get("responses") or {})}
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        fmt = self.error_format

        async def handle(request: Request) -> Response:
            try:
                return await handler(request)
            except FleetgateError as exc:
                return fmt.respond(exc)

        return handle


class PlainRoute(MappedRoute):
    """Errors as ``{"error": text}`` with a fitting HTTP status."""


def format_of_route(route: object) -> ErrorFormat:
    """The format of a matched route (plain for routes of no façade, such as /metrics)."""
    fmt = getattr(route, "error_format", None)
    return fmt if isinstance(fmt, ErrorFormat) else PLAIN_ERRORS


def format_of_path(path: str) -> ErrorFormat | None:
    """The format of the façade whose paths ``path`` is among (None: no façade's).

    The façades are known by their route classes: each declares its format on one.
    """
    for route_class in MappedRoute.__subclasses__():
        fmt = route_class.error_format
        if fmt.paths is not None and fmt.paths.match(path):
            return fmt
    return None
