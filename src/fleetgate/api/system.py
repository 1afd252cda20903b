"""Operator endpoints: liveness with a database check, and Prometheus metrics."""

from __future__ import annotations

import logging

from fastapi import APIRouter
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
async def metrics(ctx: ContextDep) -> Response:
    """Prometheus text exposition of this process's metrics."""
    return Response(generate_latest(ctx.registry), media_type=CONTENT_TYPE_LATEST)
