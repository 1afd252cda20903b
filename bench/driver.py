"""A bounded closed-loop load driver: N workers, each with its own keep-alive connection,
each sending its next request as soon as the last one is answered.

Every run stops at whichever comes first, a request count or a wall-clock limit, so no
benchmark can run away. Latency is measured per request, from send to the last body byte.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bench.http1 import Connection, HttpError, Response, connect

# One request of a workload: the i-th call on a connection; raises BadResponse if wrong.
Send = Callable[[Connection, int], Awaitable[Response]]


class BadResponse(Exception):
    """The server answered, but not with what the workload expects."""


@dataclass(frozen=True, slots=True)
class Limits:
    """How much one workload may do: at most this many requests and this many seconds."""

    concurrency: int
    max_requests: int
    max_seconds: float
    # Requests per connection sent before measuring, to open connections and warm caches.
    warmup: int = 1


@dataclass(slots=True)
class Outcome:
    """Raw measurements of one closed-loop run."""

    latencies: list[float] = field(default_factory=list)
    first_bytes: list[float] = field(default_factory=list)
    bytes_read: int = 0
    elapsed: float = 0.0
    errors: int = 0
    first_error: str | None = None


async def closed_loop(base_url: str, client: str, send: Send, limits: Limits) -> Outcome:
    """Run ``send`` from ``limits.concurrency`` workers until a limit is reached."""
    conns = [connect(client, base_url) for _ in range(limits.concurrency)]
    numbers = itertools.count()
    out = Outcome()
    try:
        for _ in range(limits.warmup):
            await asyncio.gather(*(send(c, next(numbers)) for c in conns))
        budget = limits.max_requests
        start = time.perf_counter()
        deadline = start + limits.max_seconds

        async def worker(conn: Connection) -> None:
            nonlocal budget
            while budget > 0 and time.perf_counter() < deadline:
                budget -= 1
                t0 = time.perf_counter()
                try:
                    resp = await send(conn, next(numbers))
                except (HttpError, BadResponse) as exc:
                    out.errors += 1
                    out.first_error = out.first_error or f"{type(exc).__name__}: {exc}"
                    continue
                out.latencies.append(time.perf_counter() - t0)
                out.first_bytes.append(resp.first_byte)
                out.bytes_read += resp.size

        await asyncio.gather(*(worker(c) for c in conns))
        out.elapsed = time.perf_counter() - start
    finally:
        await asyncio.gather(*(c.close() for c in conns))
    return out
