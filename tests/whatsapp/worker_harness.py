"""The engine's side of a worker process, for tests: spawn it on a socketpair, call, watch.

A reader thread collects the worker's replies and events; tests wait on them with a bounded
condition wait (never a sleep).
"""

from __future__ import annotations

import contextlib
import itertools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fleetgate_whatsapp.client import FactoryOptions
from fleetgate_whatsapp.ipc import (
    HEADER,
    Call,
    Event,
    Reply,
    body_length,
    decode,
    encode,
    frame_limit,
)

ROOT = Path(__file__).resolve().parents[2]
FAKE = "tests.whatsapp.fake_client:FakeFactory"
WAIT_S = 30.0
# A worker's frames with its default --media-max-bytes.
MAX_FRAME = frame_limit(FactoryOptions().media_max_bytes)


class WorkerProcess:
    """A running worker and what it said so far."""

    def __init__(self, proc: subprocess.Popen[bytes], sock: socket.socket) -> None:
        self.proc = proc
        self.sock = sock
        self.replies: dict[int, Reply] = {}
        self.events: list[Event] = []
        self._ids = itertools.count(1)
        self._cond = threading.Condition()
        self._send_lock = threading.Lock()
        self.closed = False
        self._reader = threading.Thread(target=self._read_loop, daemon=True)
        self._reader.start()

    # -- talking ---------------------------------------------------------------------------

    def send_call(self, op: str, sid: int = 0, **args: Any) -> int:
        call_id = next(self._ids)
        self.send_bytes(encode(Call(id=call_id, op=op, sid=sid, args=args), MAX_FRAME))
        return call_id

    def send_bytes(self, data: bytes) -> None:
        with self._send_lock:
            self.sock.sendall(data)

    def reply(self, call_id: int, timeout: float = WAIT_S) -> Reply:
        return self.wait(lambda: self.replies.get(call_id), f"reply {call_id}", timeout)

    def call(self, op: str, sid: int = 0, timeout: float = WAIT_S, **args: Any) -> Reply:
        return self.reply(self.send_call(op, sid, **args), timeout)

    def ok(self, op: str, sid: int = 0, timeout: float = WAIT_S, **args: Any) -> Any:
        answer = self.call(op, sid, timeout, **args)
        assert answer.ok, f"{op} on {sid} failed: {answer.error}"
        return answer.result

    # -- watching --------------------------------------------------------------------------

    def wait(self, check: Callable[[], Any], what: str, timeout: float = WAIT_S) -> Any:
        """Until ``check`` returns something true; fails at the bound, or at once when the
        worker is gone (its exit code says why)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = check()
                if found:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"not reached within {timeout:g} s: {what}")
                if self.closed:
                    code = self.proc.wait(timeout=left)
                    raise AssertionError(f"the worker left (exit {code}) before: {what}")
                self._cond.wait(left)

    def of(self, sid: int, kind: str) -> list[Event]:
        with self._cond:
            return [e for e in self.events if e.sid == sid and e.kind == kind]

    def wait_event(self, sid: int, kind: str, count: int = 1, timeout: float = WAIT_S) -> Event:
        found = self.wait(
            lambda: len(self.of(sid, kind)) >= count, f"{count} {kind} of {sid}", timeout
        )
        assert found
        return self.of(sid, kind)[count - 1]

    def logs(self, contains: str = "") -> list[str]:
        return [e.data["message"] for e in self.of(0, "log") if contains in e.data["message"]]

    def wait_log(self, contains: str, count: int = 1, timeout: float = WAIT_S) -> None:
        self.wait(lambda: len(self.logs(contains)) >= count, f"log {contains!r}", timeout)

    # -- ending ----------------------------------------------------------------------------

    def close_socket(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        self.sock.close()

    def _read_loop(self) -> None:
        try:
            while True:
                header = self._read_exact(HEADER.size)
                if header is None:
                    break
                body = self._read_exact(body_length(header, MAX_FRAME))
                if body is None:
                    break
                frame = decode(body)
                with self._cond:
                    if isinstance(frame, Reply):
                        self.replies[frame.id] = frame
                    elif isinstance(frame, Event):
                        self.events.append(frame)
                    self._cond.notify_all()
        finally:
            with self._cond:
                self.closed = True
                self._cond.notify_all()

    def _read_exact(self, size: int) -> bytes | None:
        data, got = bytearray(size), 0
        view = memoryview(data)
        while got < size:
            try:
                count = self.sock.recv_into(view[got:])
            except OSError:
                return None
            if not count:
                return None
            got += count
        return bytes(data)


@contextmanager
def worker_process(
    *args: str,
    client: str = FAKE,
    stdio_file: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[WorkerProcess]:
    """A worker process (the stand-in factory unless ``client`` says otherwise), ended at
    exit: its socket closed, then killed if it has not left within the bound."""
    ours, theirs = socket.socketpair()
    command = [sys.executable, "-m", "fleetgate_whatsapp.worker", "--fd", str(theirs.fileno())]
    command += ["--client", client, *args]
    if stdio_file is not None:
        command += ["--stdio-file", str(stdio_file)]
    path = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])
    environ = {**os.environ, **(env or {}), "PYTHONPATH": path}
    proc = subprocess.Popen(
        command, pass_fds=(theirs.fileno(),), cwd=ROOT, env=environ, stdin=subprocess.DEVNULL
    )
    theirs.close()
    worker = WorkerProcess(proc, ours)
    try:
        yield worker
    finally:
        worker.close_socket()
        try:
            proc.wait(timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            raise AssertionError("the worker did not leave after its socket closed") from None
