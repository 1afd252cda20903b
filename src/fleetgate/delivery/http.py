"""Outbound HTTP for webhooks: several small connection pools instead of one large one.

httpx's pool looks at every one of its connections for every request it hands out, so one
pool of hundreds of connections spends more CPU choosing a connection than sending on it.
Requests are spread over the shards by a key (the instance id): one instance's webhooks
always share a pool, so its keep-alive connection is reused.
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from types import TracebackType

import httpx

_SHARDS = 8


class WebhookClient:
    """POSTs webhooks through ``shards`` pools of ``concurrency / shards`` connections each."""

    def __init__(self, concurrency: int, *, shards: int = _SHARDS) -> None:
        shards = max(1, min(shards, concurrency))
        per_shard = -(-concurrency // shards)
        limits = httpx.Limits(max_connections=per_shard, max_keepalive_connections=per_shard)
        self._pools = [
            # Redirects are never followed: a webhook URL names exactly where data may go.
            httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False)
            for _ in range(shards)
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
        self, url: str, *, key: int, content: bytes, headers: dict[str, str], timeout: float
    ) -> httpx.Response:
        pool = self._pools[key % len(self._pools)]
        return await pool.post(url, content=content, headers=headers, timeout=timeout)
