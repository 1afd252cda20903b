"""The rate-limit dependency of the GREEN-API instance routers (docs/rate-limits.md)."""

from __future__ import annotations

from fastapi.routing import APIRoute
from starlette.requests import Request

from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.context import Context
from fleetgate.services.ratelimits import RateLimiter, rate_limiter_for

_METHOD_START = len(PREFIX) + 1


async def rate_limited(request: Request, instance: InstanceDep, ctx: ContextDep) -> None:
    """Count the request against its instance's rate for the method; 429 once over it.

    Added to an instance router as ``dependencies=[Depends(rate_limited)]``. It takes the
    authenticated instance, so authentication runs first: a wrong token is a 401, not counted.
    """
    limiter = _limiter(request, ctx)
    if limiter is None:
        return
    route: APIRoute = request.scope["route"]
    await limiter.check(id_instance=instance.id_instance, method=method_name(route.path))


def method_name(route_path: str) -> str:
    """The method an instance route serves: the path segment after ``/waInstance{idInstance}/``.

    Routes carry the canonical spelling (the case-folding middleware rewrote the request path
    to it), so ``GetSettings`` and ``getSettings`` count as one method.
    """
    return route_path[_METHOD_START:].split("/", 1)[0]


def _limiter(request: Request, ctx: Context) -> RateLimiter | None:
    # One limiter per app, made on first use: on SQLite its counters live in it.
    state = request.app.state
    if not hasattr(state, "rate_limiter"):
        state.rate_limiter = rate_limiter_for(db=ctx.db, settings=ctx.settings.ratelimits)
    limiter: RateLimiter | None = state.rate_limiter
    return limiter
