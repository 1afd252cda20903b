"""The worker's end of the IPC socket: frames in on one thread, out through one writer thread.

Replies and events come from many threads (calls run in a pool, events on the library's
callback threads), so they go through a bounded queue to a single writer: a slow engine slows
the senders down (the queue fills and ``send`` waits) instead of interleaving bytes. Log
records are the exception: they are dropped when the queue is full rather than wait.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from typing import Any

import orjson

from fleetgate_whatsapp.ipc import (
    HEADER,
    MAX_FRAME,
    Event,
    Frame,
    ProtocolError,
    Reply,
    decode,
    encode,
)

log = logging.getLogger(__name__)

_CHUNK = 1 << 16
_QUEUE_MAX = 10_000


class BadFrame(ProtocolError):
    """A frame that was refused; ``call_id`` is its id when it looked like a call."""

    def __init__(self, message: str, call_id: int | None) -> None:
        super().__init__(message)
        self.call_id = call_id


class Channel:
    """Reads frames (main thread) and writes them (its own thread) on one stream socket."""

    def __init__(self, sock: socket.socket, max_frame: int = MAX_FRAME) -> None:
        self._sock = sock
        self.max_frame = max_frame
        self._out: queue.Queue[Frame | None] = queue.Queue(_QUEUE_MAX)
        self.broken = threading.Event()  # the engine's end is gone
        self._writer = threading.Thread(target=self._write_loop, name="ipc-writer", daemon=True)
        self._writer.start()

    def read(self) -> Frame | None:
        """The next frame; None at end of stream. BadFrame for a frame that is not one of
        ours (the stream stays in step: the whole announced body was read)."""
        header = self._read_exact(HEADER.size)
        if header is None:
            return None
        (length,) = HEADER.unpack(header)
        if length > self.max_frame:
            if not self._skip(length):
                return None
            raise BadFrame(f"frame of {length} bytes is over {self.max_frame}", None)
        body = self._read_exact(length)
        if body is None:
            return None
        try:
            return decode(body)
        except ProtocolError as exc:
            raise BadFrame(str(exc), _call_id(body)) from None

    def send(self, frame: Frame) -> None:
        """Queue a frame for the engine (waits while the queue is full)."""
        if not self.broken.is_set():
            self._out.put(frame)

    def send_nowait(self, frame: Frame) -> bool:
        """Queue a frame unless the queue is full; whether it was queued."""
        if self.broken.is_set():
            return False
        try:
            self._out.put_nowait(frame)
        except queue.Full:
            return False
        return True

    def interrupt(self) -> None:
        """Make :meth:`read` see the end of the stream (a signal handler asks to stop)."""
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RD)

    def close(self, timeout: float) -> None:
        """Write what is queued (for at most ``timeout`` seconds), then stop writing."""
        with contextlib.suppress(queue.Full):
            self._out.put(None, timeout=timeout)
        self._writer.join(timeout)

    def _write_loop(self) -> None:
        while True:
            frame = self._out.get()
            if frame is None:
                return
            try:
                data = _encode(frame, self.max_frame)
                if data:
                    self._sock.sendall(data)
            except OSError:
                # The engine is gone; the reader sees the end of the stream and shuts down.
                self.broken.set()
                self.interrupt()
                return

    def _read_exact(self, size: int) -> bytes | None:
        # Straight into one buffer: a frame with a file is tens of megabytes.
        buffer = bytearray(size)
        view, got = memoryview(buffer), 0
        while got < size:
            try:
                count = self._sock.recv_into(view[got:], min(size - got, _CHUNK * 16))
            except OSError:
                return None
            if not count:
                return None
            got += count
        return bytes(buffer)

    def _skip(self, size: int) -> bool:
        while size > 0:
            chunk = self._read_exact(min(size, _CHUNK))
            if chunk is None:
                return False
            size -= len(chunk)
        return True


def _encode(frame: Frame, limit: int) -> bytes:
    """A frame's bytes; a reply that cannot be encoded becomes an error reply."""
    try:
        return encode(frame, limit)
    except (ProtocolError, TypeError) as exc:
        if isinstance(frame, Reply):
            log.error("reply %d cannot be sent: %s", frame.id, exc)
            return encode(Reply(id=frame.id, ok=False, error=f"result cannot be sent: {exc}"))
        if isinstance(frame, Event) and frame.kind != "log":
            log.error("event %s of session %d cannot be sent: %s", frame.kind, frame.sid, exc)
        return b""


def _call_id(body: bytes) -> int | None:
    """The id of a refused frame that looks like a call, to answer it."""
    try:
        obj: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    if isinstance(obj, dict) and obj.get("t") == "call":
        call_id = obj.get("id")
        if isinstance(call_id, int) and not isinstance(call_id, bool):
            return call_id
    return None
