"""Keep-alive HTTP/1.1 connections for the load driver: a lean one of our own, or httpx.

Why our own: on this 2-core machine the driver shares the CPU with the server it measures.
httpx costs about 0.5 ms of CPU per request, and one shared httpx pool slows down as more
requests wait on it (64 workers on one pool reached about 300 /health req/s where the server
does over 1,500). The lean connection speaks just enough HTTP/1.1 for fleetgate's answers
(Content-Length or chunked bodies, keep-alive) at a few microseconds a request, so the
figures are the server's. ``--client httpx`` gives httpx figures for comparison (one
single-connection client per worker, which avoids the shared-pool slowdown).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol

import httpx

CLIENTS = ("lean", "httpx")


class HttpError(Exception):
    """The exchange failed: connection refused or dropped, timeout, malformed answer."""


@dataclass(slots=True)
class Response:
    status: int
    # The body, or only its first bytes when the caller asked not to keep it.
    body: bytes
    size: int
    # Seconds from sending the request to the end of the response head.
    first_byte: float


class Connection(Protocol):
    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        keep_body: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Response: ...

    async def close(self) -> None: ...


# Enough of a body to tell a JSON array from an error object without keeping 40 MB around.
_PEEK = 64


class LeanConnection:
    """One persistent HTTP/1.1 connection, reopened after an error or ``Connection: close``."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self._host, self._port, self._timeout = host, port, timeout
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        keep_body: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Response:
        try:
            async with asyncio.timeout(self._timeout):
                return await self._exchange(method, path, body, keep_body, headers or {})
        except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as exc:
            await self.close()
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc

    async def _exchange(
        self,
        method: str,
        path: str,
        body: bytes | None,
        keep_body: bool,
        extra: dict[str, str],
    ) -> Response:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        reader, writer = self._reader, self._writer
        assert reader is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\n"
        head += "".join(f"{name}: {value}\r\n" for name, value in extra.items())
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        t0 = time.perf_counter()
        writer.write(head.encode() + b"\r\n" + (body or b""))
        status, headers = _parse_head(await reader.readuntil(b"\r\n\r\n"))
        first_byte = time.perf_counter() - t0
        parts: list[bytes] = []
        size = 0
        async for piece in _body(reader, headers):
            size += len(piece)
            if keep_body or size - len(piece) < _PEEK:
                parts.append(piece)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        data = b"".join(parts)
        return Response(status, data if keep_body else data[:_PEEK], size, first_byte)

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            try:
                await writer.wait_closed()
            except OSError:
                pass


def _parse_head(raw: bytes) -> tuple[int, dict[str, str]]:
    lines = raw.decode("latin-1").split("\r\n")
    version, status, *_ = lines[0].split(" ", 2)
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x answer: {lines[0]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if line:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
    return int(status), headers


async def _body(reader: asyncio.StreamReader, headers: dict[str, str]) -> AsyncIterator[bytes]:
    """The body's pieces, as Content-Length or chunked transfer encoding delimits them."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers, if any
                    pass
                return
            chunk = await reader.readexactly(size + 2)
            yield chunk[:-2]
    else:
        length = int(headers.get("content-length", "0"))
        if length:
            yield await reader.readexactly(length)


class HttpxConnection:
    """The same exchange through httpx: one client holding one keep-alive connection."""

    def __init__(self, base_url: str, timeout: float) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url, timeout=timeout, limits=httpx.Limits(max_connections=1)
        )

    async def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        keep_body: bool = True,
        headers: dict[str, str] | None = None,
    ) -> Response:
        headers = dict(headers or {})
        if body is not None:
            headers["Content-Type"] = "application/json"
        t0 = time.perf_counter()
        try:
            async with self._client.stream(method, path, content=body, headers=headers) as resp:
                first_byte = time.perf_counter() - t0
                parts: list[bytes] = []
                size = 0
                async for piece in resp.aiter_raw():
                    size += len(piece)
                    if keep_body or size - len(piece) < _PEEK:
                        parts.append(piece)
        except httpx.HTTPError as exc:
            raise HttpError(f"{type(exc).__name__}: {exc}") from exc
        data = b"".join(parts)
        return Response(resp.status_code, data if keep_body else data[:_PEEK], size, first_byte)

    async def close(self) -> None:
        await self._client.aclose()


def connect(kind: str, base_url: str, timeout: float = 120.0) -> Connection:
    """A (lazily opened) connection of the given kind to ``http://host:port``."""
    if kind == "httpx":
        return HttpxConnection(base_url, timeout)
    if kind != "lean":
        raise ValueError(f"unknown client {kind!r}")
    url = httpx.URL(base_url)
    if url.port is None:
        raise ValueError("base URL needs an explicit port")
    return LeanConnection(url.host, url.port, timeout)
