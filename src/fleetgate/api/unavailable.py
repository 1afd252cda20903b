"""Database outages as 503s: one exception handler for every route, in each façade's format.

A PostgreSQL restart, a lost connection, an exhausted pool or a SQLite write lock held past
the busy bound is not a bug of the request: the client gets a 503 with ``Retry-After`` and a
short reason, and the server logs one line without a traceback. Any other database error (an
integrity or data error) is a bug and stays a 500.
"""

from __future__ import annotations

import logging

import asyncpg
from fastapi import FastAPI
from sqlalchemy import exc as sa
from starlette.requests import Request
from starlette.responses import Response

from fleetgate.api.greenapi.errors import InstanceRoute, PartnerRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.storage.db import DatabaseBusy

log = logging.getLogger(__name__)

RETRY_AFTER_S = 2
BUSY_TEXT = "database busy; retry in a few seconds"
DOWN_TEXT = "database unavailable; retry in a few seconds"

# Raised as they are (not wrapped by SQLAlchemy) or always meaning "not reachable now".
_ALWAYS: tuple[type[BaseException], ...] = (
    sa.OperationalError,  # SQLite "database is locked", "unable to open database file"
    sa.InterfaceError,
    sa.TimeoutError,  # no pooled connection free in time
    sa.DisconnectionError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    OSError,  # connection refused or reset while connecting
    TimeoutError,  # connecting took too long; DatabaseBusy
)
# SQLSTATE classes of a wrapped driver error that mean the server is going or gone.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be used right now (rather than a bug)."""
    if isinstance(exc, _ALWAYS) or _closed_to_connections(exc):
        return True
    if isinstance(exc, sa.DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        return (
            exc.connection_invalidated
            or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
            or _closed_to_connections(exc.orig)
        )
    return False


def _closed_to_connections(exc: BaseException | None) -> bool:
    """A database an operator closed (``ALTER DATABASE … ALLOW_CONNECTIONS false``): SQLSTATE
    55000, a class that otherwise means a bug, so only with this message."""
    return isinstance(exc, asyncpg.exceptions.ObjectNotInPrerequisiteStateError) and (
        "accepting connections" in str(exc)
    )


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, DatabaseBusy) or (
        isinstance(exc, sa.OperationalError) and "locked" in str(exc.orig)
    )


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """503 in the format of the façade whose route failed; other errors go on as 500s."""
    if not is_unavailable(exc):
        raise exc
    route = request.scope.get("route")
    # The route template, never the raw path: paths carry tokens.
    where = getattr(route, "path", "unmatched")
    log.warning("database unavailable on %s %s: %s", request.method, where, type(exc).__name__)
    text = BUSY_TEXT if _is_busy(exc) else DOWN_TEXT
    body: dict[str, object]
    if isinstance(route, PartnerRoute | InstanceRoute):
        body = {"code": 503, "description": text}
    else:
        body = {"error": text}
    return OrjsonResponse(body, 503, headers={"Retry-After": str(RETRY_AFTER_S)})


def install(app: FastAPI) -> None:
    """Answer database outages with 503 on every route of ``app``."""
    for kind in (*_ALWAYS, sa.DBAPIError):
        app.add_exception_handler(kind, database_unavailable)
