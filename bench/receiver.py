"""A minimal, fast webhook receiver in its own process: ``python -m bench.receiver --port N``.

It speaks just enough keep-alive HTTP/1.1 (Content-Length bodies) on a raw asyncio protocol
to answer every ``POST`` with 200 in a few microseconds, so the delivery rate measured is the
server's and not the receiver's. For each POST it records the arrival time
(``time.monotonic()``, which is CLOCK_MONOTONIC and so comparable across processes on Linux)
with ``instanceData.idInstance``, ``typeWebhook``, ``stateInstance`` and the ``t0`` and
``seq`` fields a benchmark may have put in the body.

Control requests: ``GET /count`` -> ``{"count": n}``, ``GET /records`` -> every record as
``[arrival, idInstance, typeWebhook, stateInstance, t0, seq]``, ``POST /reset`` forgets them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any, cast

import orjson

from bench.http1 import HttpError, connect
from bench.server import free_port, proc_cpu_seconds

Record = tuple[float, int, str, str, float | None, int | None]

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


def _answer(body: bytes) -> bytes:
    head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
    return head % len(body) + body


class Store:
    """What the receiver has seen since the last reset."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def handle(self, method: str, target: str, body: bytes, arrived: float) -> bytes:
        if method == "POST" and target != "/reset":
            self.records.append(_record(body, arrived))
            return _OK
        if target == "/count":
            return _answer(orjson.dumps({"count": len(self.records)}))
        if target == "/records":
            return _answer(orjson.dumps(self.records))
        if target == "/reset":
            self.records = []
        return _OK


def _record(body: bytes, arrived: float) -> Record:
    try:
        data: dict[str, Any] = orjson.loads(body)
        instance = data.get("instanceData") or {}
        return (
            arrived,
            int(instance.get("idInstance", 0)),
            str(data.get("typeWebhook", "")),
            str(data.get("stateInstance", "")),
            data.get("t0"),
            data.get("seq"),
        )
    except (orjson.JSONDecodeError, AttributeError, TypeError, ValueError):
        return (arrived, 0, "", "", None, None)


class _Protocol(asyncio.Protocol):
    """One client connection: parse requests out of the byte stream and answer each."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports do not subclass asyncio.Transport, but behave as one.
        self._transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        self._buf += data
        while True:
            end = self._buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self._buf[:end]).decode("latin-1")
            length = _content_length(head)
            total = end + 4 + length
            if len(self._buf) < total:
                return
            body = bytes(self._buf[end + 4 : total])
            del self._buf[:total]
            method, target, *_ = head.split(" ", 2)
            assert self._transport is not None
            self._transport.write(self._store.handle(method, target, body, arrived))


def _content_length(head: str) -> int:
    at = head.lower().find("\r\ncontent-length:")
    if at < 0:
        return 0
    return int(head[at + 17 :].split("\r\n", 1)[0].strip())


async def serve(port: int) -> None:
    """Listen on 127.0.0.1:port until SIGINT or SIGTERM."""
    loop = asyncio.get_running_loop()
    store = Store()
    server = await loop.create_server(lambda: _Protocol(store), "127.0.0.1", port, backlog=1024)
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print("ready", flush=True)
    async with server:
        await stop.wait()


def main() -> None:
    p = argparse.ArgumentParser(prog="python -m bench.receiver", description=__doc__)
    p.add_argument("--port", type=int, required=True)
    port = p.parse_args().port
    try:
        import uvloop
    except ImportError:
        asyncio.run(serve(port))
    else:
        uvloop.run(serve(port))


class Receiver:
    """The receiver process, started and stopped by the benchmark; a context manager."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.hook_url = f"{self.url}/hook"
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def cpu_seconds(self) -> float:
        assert self._proc is not None
        return proc_cpu_seconds(self._proc.pid)

    def __enter__(self) -> Receiver:
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "bench.receiver", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=Path(__file__).resolve().parent.parent,
                env=os.environ | {"PYTHONUNBUFFERED": "1"},
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"webhook receiver exited at start; see {self._log_path}")
            if b"ready" in self._log_path.read_bytes():
                return self
            time.sleep(0.05)
        self.__exit__(None, None, None)
        raise RuntimeError("webhook receiver did not start within 20 s")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGTERM)
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    async def _call(self, method: str, path: str) -> Any:
        conn = connect("lean", self.url, timeout=30)
        try:
            resp = await conn.request(method, path, b"" if method == "POST" else None)
        finally:
            await conn.close()
        if resp.status != 200:
            raise HttpError(f"receiver answered {resp.status} to {path}")
        return orjson.loads(resp.body)

    async def reset(self) -> None:
        await self._call("POST", "/reset")

    async def count(self) -> int:
        return int((await self._call("GET", "/count"))["count"])

    async def records(self) -> list[Record]:
        rows: list[list[Any]] = await self._call("GET", "/records")
        return [(r[0], r[1], r[2], r[3], r[4], r[5]) for r in rows]

    async def wait_for(self, count: int, timeout: float, poll_s: float = 0.05) -> int:
        """Wait until ``count`` POSTs arrived (or the timeout); how many did."""
        deadline = time.monotonic() + timeout
        seen = await self.count()
        while seen < count and time.monotonic() < deadline:
            await asyncio.sleep(poll_s)
            seen = await self.count()
        return seen


if __name__ == "__main__":
    main()
