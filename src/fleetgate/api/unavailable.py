"""Database outages as 503s: one exception handler for every route, in each façade's format.

A PostgreSQL restart, a lost connection, an exhausted pool or a SQLite write lock held past
the busy bound is not a bug of the request: the client gets a 503 with ``Retry-After`` and a
short reason, and the server logs one line without a traceback. Any other database error (an
integrity or data error) is a bug and stays a 500. Storage tells the two apart
(storage/db.py ``is_unavailable``); this module only answers.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from fleetgate.api.errors import format_of_route
from fleetgate.storage.db import UNAVAILABLE_ERRORS, DriverError, is_busy, is_unavailable

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
BUSY_TEXT = "database busy; retry in a few seconds"
DOWN_TEXT = "database unavailable; retry in a few seconds"


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 in the format of the façade whose route failed; other errors go on as 500s."""
    if not is_unavailable(exc):
        raise exc
    route = request.scope.get("route")
    # The route template, never the raw path: paths carry tokens.
    where = getattr(route, "path", "unmatched")
    log.warning("database unavailable on %s %s: %s", request.method, where, type(exc).__name__)
    text = BUSY_TEXT if is_busy(exc) else DOWN_TEXT
    return format_of_route(route).answer(503, text, {"Retry-After": str(RETRY_AFTER_S)})


def install(app: FastAPI) -> None:
    """Answer database outages with 503 on every route of ``app``."""
    for kind in (*UNAVAILABLE_ERRORS, DriverError):
        app.add_exception_handler(kind, database_unavailable)
