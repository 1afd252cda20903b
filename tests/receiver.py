"""A real webhook receiver on 127.0.0.1 (uvicorn in a thread) that records what it gets.

Each path ``/hook/{name}`` has its own behaviour, set with :meth:`Receiver.behave`: answer 200,
fail the first N requests, answer another status, take a while, or hold each request until the
test calls :meth:`Receiver.release`. Requests are recorded when they arrive (``arrived``) and
when they are answered (``got``), so a test can wait for "in flight" as well as for "done".
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route


@dataclass
class Behaviour:
    fail_first: int = 0
    fail_status: int = 500
    delay_s: float = 0.0
    # Hold each request until release() (at most this long): "in flight" for as long as the
    # test needs, without guessing how long that is.
    hold_s: float = 0.0


@dataclass(frozen=True)
class Received:
    name: str
    headers: dict[str, str]
    raw: bytes
    at: float
    answered: int

    @property
    def body(self) -> Any:
        return orjson.loads(self.raw)


@dataclass
class Receiver:
    url: str = ""
    behaviours: dict[str, Behaviour] = field(default_factory=dict)
    got: list[Received] = field(default_factory=list)
    arrived: list[tuple[str, bytes]] = field(default_factory=list)
    released: threading.Event = field(default_factory=threading.Event)
    inflight: dict[str, int] = field(default_factory=dict)
    max_inflight: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    files: dict[str, bytes] = field(default_factory=dict)

    def hook(self, name: str) -> str:
        return f"{self.url}/hook/{name}"

    def serve(self, name: str, content: bytes) -> str:
        """A URL that answers ``GET`` with ``content`` (a file to send by URL)."""
        self.files[name] = content
        return f"{self.url}/files/{name}"

    def behave(self, name: str, **kwargs: Any) -> None:
        self.behaviours[name] = Behaviour(**kwargs)

    def of(self, name: str, *, ok_only: bool = True) -> list[Received]:
        with self.lock:
            return [r for r in self.got if r.name == name and (r.answered == 200 or not ok_only)]

    def arrivals(self, name: str) -> list[bytes]:
        """Bodies of the requests to ``name`` so far, answered or not, in order of arrival."""
        with self.lock:
            return [raw for got, raw in self.arrived if got == name]

    def release(self) -> None:
        """Let every held request (and any later one) be answered."""
        self.released.set()

    async def wait_arrived(self, name: str, count: int, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.arrivals(name)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{name}: {len(self.arrivals(name))} of {count} arrived")
            await asyncio.sleep(0.01)

    async def wait_idle(self, timeout: float = 15.0) -> None:
        """Until every request that arrived has been answered."""
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if not any(self.inflight.values()):
                    return
            if time.monotonic() > deadline:
                raise AssertionError(f"requests still in flight: {self.inflight}")
            await asyncio.sleep(0.01)

    async def wait_for(self, name: str, count: int, timeout: float = 15.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.of(name)
            if len(got) >= count:
                return got
            await asyncio.sleep(0.02)
        raise AssertionError(f"{name}: {len(self.of(name))} of {count} webhooks arrived")

    async def _handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        raw = await request.body()
        behaviour = self.behaviours.setdefault(name, Behaviour())
        key = raw.decode()
        with self.lock:
            self.arrived.append((name, raw))
            self.inflight[key] = self.inflight.get(key, 0) + 1
            self.max_inflight[key] = max(self.max_inflight.get(key, 0), self.inflight[key])
            failing = behaviour.fail_first > 0
            if failing:
                behaviour.fail_first -= 1
        try:
            if behaviour.delay_s:
                await asyncio.sleep(behaviour.delay_s)
            held_until = time.monotonic() + behaviour.hold_s
            while not self.released.is_set() and time.monotonic() < held_until:
                await asyncio.sleep(0.005)
            status = behaviour.fail_status if failing else 200
            with self.lock:
                self.got.append(
                    Received(name, dict(request.headers), raw, time.monotonic(), status)
                )
            return Response(b"ok" if status == 200 else b"no", status)
        finally:
            with self.lock:
                self.inflight[key] -= 1

    async def _file(self, request: Request) -> Response:
        content = self.files.get(request.path_params["name"])
        if content is None:
            return Response(b"no such file", 404)
        return Response(content, 200, media_type="application/octet-stream")


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    app = Starlette(
        routes=[
            Route("/hook/{name}", receiver._handle, methods=["POST"]),
            Route("/files/{name}", receiver._file, methods=["GET"]),
        ]
    )
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    receiver.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))
    thread = threading.Thread(target=lambda: asyncio.run(server.serve(sockets=[sock])), daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("receiver did not start")
        time.sleep(0.01)
    try:
        yield receiver
    finally:
        receiver.release()  # no held request outlives the test
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
