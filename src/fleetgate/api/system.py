"""Operator endpoints: liveness with a database check, and Prometheus metrics."""

from __future__ import annotations

import hmac
import logging

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse

log = logging.getLogger(__name__)
router = APIRouter(tags=["system"])


@router.get("/health")
async def health(ctx: ContextDep) -> Response:
    """200 when the process is up and the database answers; 503 otherwise."""
    try:
        await ctx.db.ping()
    except Exception as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return OrjsonResponse({"status": "error", "database": "unreachable"}, 503)
    return OrjsonResponse({"status": "ok", "database": "ok"})


@router.get("/metrics")
async def metrics(request: Request, ctx: ContextDep) -> Response:
    """Prometheus text exposition of this process's metrics (``Authorization: Bearer <token>``
    when ``FLEETGATE_METRICS__TOKEN`` is set)."""
    settings = ctx.settings.metrics
    if not settings.enabled:
        return OrjsonResponse({"detail": "Not Found"}, 404)
    if settings.token is not None and not _bearer_matches(
        request.headers.get("authorization", ""), settings.token.get_secret_value()
    ):
        return OrjsonResponse(
            {"detail": "metrics need Authorization: Bearer <FLEETGATE_METRICS__TOKEN>"},
            401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    # compare_digest: the time taken says nothing about how much of the token was right.
    return scheme.lower() == "bearer" and hmac.compare_digest(given.encode(), token.encode())
