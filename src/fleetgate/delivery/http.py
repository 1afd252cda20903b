"""Outbound HTTP for webhooks: many small connection pools instead of one large one.

httpx's pool looks at every one of its connections (a system call each) for every request it
hands out, so a pool of hundreds of connections spends more CPU choosing a connection than
sending on it. Pools of 4 connections delivered 10,000 webhooks over 100 instances about 1.4
times as fast as pools of 32 (docs/benchmarks.md). Requests are spread over the pools by a key
(the instance id): one instance's webhooks always share a pool, so its keep-alive connection is
reused, and an instance has one delivery in flight at a time anyway.

Every connection goes to an address the target policy checked (delivery/targets.py): the
network backend below connects to the pinned addresses of the request being sent, never to
what the host name resolves to by then. The URL keeps its host name, so the Host header, TLS
SNI and certificate verification are for the name, as without pinning.
"""

from __future__ import annotations

import ssl
from collections.abc import Iterable
from contextlib import AsyncExitStack
from contextvars import ContextVar
from types import TracebackType

import httpcore
import httpx

from fleetgate.delivery.targets import Target, TargetRefused

_PER_POOL = 4
# The target of the request this task is sending; the backend connects to its addresses.
_PINNED: ContextVar[Target | None] = ContextVar("fleetgate_pinned_target", default=None)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to the checked addresses of the request being sent."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = _PINNED.get()
        if target is None or (host, port) != (target.host, target.port):
            raise TargetRefused(f"no checked addresses for {host}:{port}")
        failure: Exception | None = None
        for address in target.addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # a Target always has an address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("webhooks never go to a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PinnedTransport(httpx.AsyncHTTPTransport):
    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext) -> None:
        super().__init__(limits=limits, verify=ssl_context, trust_env=False)
        # httpx has no parameter for the network backend: its pool (not opened yet, so
        # nothing leaks) is replaced by the same pool on the pinning backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )


class WebhookClient:
    """POSTs webhooks through pools of ``per_pool`` connections, ``concurrency`` in all.

    ``ssl_context`` verifies HTTPS targets (default: the certifi CA bundle).
    """

    def __init__(
        self,
        concurrency: int,
        *,
        per_pool: int = _PER_POOL,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        per_pool = max(1, min(per_pool, concurrency))
        limits = httpx.Limits(max_connections=per_pool, max_keepalive_connections=per_pool)
        context = ssl_context or httpx.create_ssl_context(trust_env=False)
        self._pools = [
            # Redirects are never followed: a webhook URL names exactly where data may go.
            httpx.AsyncClient(
                transport=_PinnedTransport(limits, context), follow_redirects=False, trust_env=False
            )
            for _ in range(-(-concurrency // per_pool))
        ]
        self._stack = AsyncExitStack()

    async def __aenter__(self) -> WebhookClient:
        for pool in self._pools:
            await self._stack.enter_async_context(pool)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self._stack.aclose()

    async def post(
        self, target: Target, *, key: int, content: bytes, headers: dict[str, str], timeout: float
    ) -> httpx.Response:
        """POST to a checked target, connecting only to its addresses."""
        pool = self._pools[key % len(self._pools)]
        pinned = _PINNED.set(target)
        try:
            return await pool.post(target.url, content=content, headers=headers, timeout=timeout)
        finally:
            _PINNED.reset(pinned)
