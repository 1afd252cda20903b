"""Pure ASGI middleware: method-name case folding, request metrics, answers cut off at shutdown,
browser-hardening headers."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Iterable

import orjson
from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from fleetgate.api.errors import PLAIN_ERRORS, ErrorFormat, format_of_path

log = logging.getLogger(__name__)

# Paths whose second segment is a method name: /partner/{method}/…, /waInstance{id}/{method}/…
_METHOD_PATH = re.compile(r"^/(partner|waInstance\d+)/([^/]+)(/.*)?$")


class MethodCaseMiddleware:
    """Route GREEN-API method names case-insensitively (``/partner/GetInstances/...`` works).

    Rewrites the method segment to the spelling the routes are registered with, so every
    other layer (routing, OpenAPI, metrics) sees one canonical name.
    """

    def __init__(self, app: ASGIApp, *, method_names: Iterable[str]) -> None:
        self.app = app
        self.canonical = {name.lower(): name for name in method_names}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            match = _METHOD_PATH.match(scope["path"])
            if match:
                canonical = self.canonical.get(match[2].lower())
                if canonical is not None and canonical != match[2]:
                    path = f"/{match[1]}/{canonical}{match[3] or ''}"
                    scope = dict(scope, path=path, raw_path=path.encode())
        await self.app(scope, receive, send)


class MetricsMiddleware:
    """Count requests and time them, labelled by route template (never by raw path)."""

    def __init__(self, app: ASGIApp, *, registry: CollectorRegistry) -> None:
        self.app = app
        self.requests = Counter(
            "fleetgate_http_requests",
            "HTTP requests answered",
            ["method", "route", "status"],
            registry=registry,
        )
        self.latency = Histogram(
            "fleetgate_http_request_duration_seconds",
            "Time to answer an HTTP request (until the response starts)",
            ["method", "route"],
            registry=registry,
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                route = scope.get("route")
                template = getattr(route, "path", "unmatched")
                self.latency.labels(scope["method"], template).observe(time.perf_counter() - start)
                self.requests.labels(scope["method"], template, str(status)).inc()
            await send(message)

        await self.app(scope, receive, send_wrapper)


SHUTTING_DOWN = "the server is shutting down; retry in a few seconds"


class HttpMiddleware:
    """A middleware that acts on HTTP requests only (lifespan and others pass through)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


class ShutdownMiddleware(HttpMiddleware):
    """A request still running when the shutdown grace runs out gets a 503 in its façade's format.

    uvicorn cancels such requests; left alone it logs a traceback and answers a plain-text 500.
    A request cancelled here has not failed, the server is going away: the client may retry
    elsewhere (``Retry-After``), and the connection is closed.

    A request whose client went away before its body arrived has not failed either: reading
    the body raises ``ClientDisconnect``, which would reach uvicorn as an 80-line traceback
    at ERROR, once per request anyone can send unauthenticated. Here it is one DEBUG line, and
    nothing is answered (there is nobody to answer).
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except asyncio.CancelledError:
            if started:
                raise
            fmt = format_of_path(scope["path"]) or PLAIN_ERRORS
            for message in _shutting_down(fmt):
                await send(message)
        except ClientDisconnect:
            log.debug("client went away before its request body arrived: %s", scope["method"])


def _shutting_down(fmt: ErrorFormat) -> tuple[Message, Message]:
    """The 503 answer, start and body, in the format of the request's façade."""
    body = orjson.dumps(fmt.body(503, SHUTTING_DOWN))
    start: Message = {
        "type": "http.response.start",
        "status": 503,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", b"2"),
            (b"connection", b"close"),
        ],
    }
    return start, {"type": "http.response.body", "body": body}


# Sent with every answer: browsers never guess a type other than the one declared (a JSON answer
# echoing user text is never run as a script or page), no page of ours is framed, and no URL of
# ours (tokens sit in paths) leaves in a Referer header.
_HARDENING = (
    (b"x-content-type-options", b"nosniff"),
    (b"x-frame-options", b"DENY"),
    (b"referrer-policy", b"no-referrer"),
)


class SecurityHeadersMiddleware(HttpMiddleware):
    """Add the hardening headers to every HTTP answer (those a route already set are kept)."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_hardened(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(h for h in _HARDENING if h[0] not in present)
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_hardened)
