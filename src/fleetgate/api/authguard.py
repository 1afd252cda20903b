"""Failure limits around the token checks of every façade (services/authlimits.py).

``admit`` runs before a token is looked at and refuses a locked-out client or instance with
TooManyFailures (each façade answers 429 with Retry-After in its own format); ``check`` then
runs the token check and counts its outcome.
"""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from starlette.requests import Request

from fleetgate.context import Context
from fleetgate.errors import FleetgateError, Forbidden, NotAuthenticated
from fleetgate.services.authlimits import AuthLimiter

T = TypeVar("T")
AUTH_FAILURES: tuple[type[FleetgateError], ...] = (NotAuthenticated, Forbidden)


@dataclass(frozen=True, slots=True)
class Guard:
    """One request's admitted attempt at one target (None: a partner-wide credential)."""

    limiter: AuthLimiter | None
    client: str
    target: str | None

    async def check(
        self, attempt: Awaitable[T], failures: tuple[type[FleetgateError], ...] = AUTH_FAILURES
    ) -> T:
        """Await a token check; a ``failures`` error it raises is counted against the client."""
        if self.limiter is None:
            return await attempt
        try:
            result = await attempt
        except failures:
            self.limiter.failed(self.client, self.target)
            raise
        self.limiter.succeeded(self.client, self.target)
        return result


def admit(request: Request, ctx: Context, target: str | None = None) -> Guard:
    """Refuse a client or target that failed too often, before any token is read."""
    limiter = ctx.auth_limits
    if limiter is None:
        return Guard(None, "", target)
    peer = request.client.host if request.client else None
    forwarded = request.headers.get("x-forwarded-for") if limiter.trusts_proxies else None
    client = limiter.client_key(peer, forwarded)
    limiter.admit(client, target)
    return Guard(limiter, client, target)
