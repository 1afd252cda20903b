"""A worker process: hosts device connections for the engine that started it.

``python -m fleetgate_whatsapp.worker --fd N --client MODULE:FACTORY`` serves the calls of
``ipc.OPS`` arriving on the inherited socket ``N`` and sends the ``ipc.EVENTS`` its clients
report, until the engine closes its end of the socket; then it stops every connection and
exits. Each connection runs ``Client.connect`` in a thread of its own, retried with a
jittered pause when it fails (``connect_failed``); every other client call runs in a small
thread pool, one call into the library at a time (its Go layer is not thread-safe).
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import random
import socket
import sys
import threading
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from fleetgate_whatsapp import ipc
from fleetgate_whatsapp.client import Client, ClientError, ClientFactory, Received, Store

# Pauses between connect attempts of one device, doubling from the first to the last.
_RETRY_FIRST_S = 0.5
_RETRY_MAX_S = 30.0
# How long the worker waits for its connections to stop when the engine goes away.
_STOP_WAIT_S = 5.0


class Channel:
    """The socket to the engine: frames out from any thread, frames in on the main one."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._lock = threading.Lock()

    def send(self, frame: ipc.Frame) -> None:
        data = ipc.encode(frame)
        with self._lock:
            try:
                self.sock.sendall(data)
            except OSError:
                pass  # the engine went away; the reader sees EOF and ends the worker

    def receive(self) -> ipc.Frame | None:
        """The next frame, or None when the engine closed its end."""
        header = self._exactly(ipc.HEADER.size)
        if header is None:
            return None
        body = self._exactly(ipc.body_length(header))
        return None if body is None else ipc.decode(body)

    def _exactly(self, size: int) -> bytes | None:
        chunks, left = [], size
        while left:
            chunk = self.sock.recv(min(left, 1 << 20))
            if not chunk:
                return None
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)


class Forwarder:
    """A session's ClientEvents: each report becomes an Event frame."""

    def __init__(self, channel: Channel, sid: int) -> None:
        self.channel = channel
        self.sid = sid

    def _emit(self, kind: str, **data: Any) -> None:
        self.channel.send(ipc.Event(sid=self.sid, kind=kind, data=data))

    def qr(self, code: str, expires_ms: int) -> None:
        self._emit("qr", code=code, expires_ms=expires_ms)

    def qr_expired(self) -> None:
        self._emit("qr_expired")

    def paired(self, jid: str) -> None:
        self._emit("paired", jid=jid)

    def connected(self, jid: str) -> None:
        self._emit("connected", jid=jid)

    def disconnected(self, reason: str) -> None:
        self._emit("disconnected", reason=reason)

    def logged_out(self, reason: str) -> None:
        self._emit("logged_out", reason=reason)

    def banned(self, reason: str, expire_s: int) -> None:
        self._emit("banned", reason=reason, expire_s=expire_s)

    def replaced(self) -> None:
        self._emit("replaced")

    def message(self, message: Received) -> None:
        self._emit("message", **asdict(message))

    def receipt(self, *, chat_id: str, id_messages: list[str], status: str) -> None:
        self._emit("receipt", chat_id=chat_id, id_messages=id_messages, status=status)

    def presence(self, *, chat_id: str, status: str, last_seen_ms: int | None) -> None:
        self._emit("presence", chat_id=chat_id, status=status, last_seen_ms=last_seen_ms)


@dataclass
class Hosted:
    """One open connection and the thread keeping it up."""

    client: Client
    stopped: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None


class Worker:
    """Serves the engine's calls for the sessions opened on this process."""

    def __init__(self, channel: Channel, factory: ClientFactory) -> None:
        self.channel = channel
        self.factory = factory
        self.sessions: dict[int, Hosted] = {}
        self._library = threading.RLock()  # one call into the client library at a time
        self._sessions_lock = threading.Lock()
        self._migrated: set[str] = set()
        self._pool = ThreadPoolExecutor(max_workers=16, thread_name_prefix="call")

    def serve(self) -> None:
        """Answer calls until the engine closes the socket; then stop every connection."""
        while (frame := self.channel.receive()) is not None:
            if not isinstance(frame, ipc.Call):
                raise ipc.ProtocolError("the engine sends only calls")
            if frame.op == "ping":  # answered at once, never behind a busy library
                self.channel.send(ipc.Reply(id=frame.id, ok=True, result=os.getpid()))
            else:
                self._pool.submit(self._answer, frame)
        self._stop_all()

    def _answer(self, call: ipc.Call) -> None:
        handler: Callable[[ipc.Call], Any] = getattr(self, f"_op_{call.op}")
        try:
            reply = ipc.Reply(id=call.id, ok=True, result=handler(call))
        except ClientError as exc:
            reply = ipc.Reply(id=call.id, ok=False, error=str(exc) or type(exc).__name__)
        except Exception as exc:
            traceback.print_exc(file=sys.stderr)
            reply = ipc.Reply(id=call.id, ok=False, error=f"{type(exc).__name__}: {exc}")
        self.channel.send(reply)

    def _op_open(self, call: ipc.Call) -> None:
        store, jid = Store(dsn=str(call.args["store"])), call.args["jid"]
        forwarder = Forwarder(self.channel, call.sid)
        with self._sessions_lock:
            if call.sid in self.sessions:
                raise ClientError(f"session {call.sid} is open already")
        with self._library:
            if store.dsn not in self._migrated:
                self.factory.migrate(store)
                self._migrated.add(store.dsn)
            if jid is not None and not self.factory.has_device(store, str(jid)):
                # Connecting to a device the store no longer holds would end the process.
                forwarder.logged_out("the device is no longer in the store")
                jid = None
            client = self.factory.client(store, None if jid is None else str(jid), forwarder)
        hosted = Hosted(client)
        hosted.thread = threading.Thread(
            target=self._keep_connected, args=(call.sid, hosted), daemon=True
        )
        with self._sessions_lock:
            self.sessions[call.sid] = hosted
        hosted.thread.start()

    def _keep_connected(self, sid: int, hosted: Hosted) -> None:
        """Run connect() until the session is closed, retrying with a growing pause."""
        pause = _RETRY_FIRST_S
        while not hosted.stopped.is_set():
            kind, data = "disconnected", {"reason": "the connection ended"}
            try:
                hosted.client.connect()
            except ClientError as exc:
                kind, data = "connect_failed", {"error": str(exc) or type(exc).__name__}
            except Exception as exc:
                kind, data = "connect_failed", {"error": f"{type(exc).__name__}: {exc}"}
            if hosted.stopped.is_set():
                return
            self.channel.send(ipc.Event(sid=sid, kind=kind, data=data))
            hosted.stopped.wait(random.uniform(pause / 2, pause))
            pause = min(pause * 2, _RETRY_MAX_S)

    def _op_migrate(self, call: ipc.Call) -> None:
        store = Store(dsn=str(call.args["store"]))
        with self._library:
            self.factory.migrate(store)
            self._migrated.add(store.dsn)

    def _op_close(self, call: ipc.Call) -> None:
        with self._sessions_lock:
            hosted = self.sessions.pop(call.sid, None)
        if hosted is not None:
            self._stop(hosted)

    def _op_logout(self, call: ipc.Call) -> None:
        hosted = self._hosted(call.sid)
        with self._library:
            hosted.client.logout()
        self._op_close(call)

    def _op_pair_phone(self, call: ipc.Call) -> str:
        hosted = self._hosted(call.sid)
        with self._library:
            return hosted.client.pair_phone(str(call.args["phone"]))

    def _op_send(self, call: ipc.Call) -> str:
        hosted = self._hosted(call.sid)
        with self._library:
            return hosted.client.send(str(call.args["chat_id"]), dict(call.args["message_data"]))

    def _op_mark_read(self, call: ipc.Call) -> None:
        hosted = self._hosted(call.sid)
        ids = [str(i) for i in call.args["id_messages"]]
        with self._library:
            hosted.client.mark_read(str(call.args["chat_id"]), str(call.args["sender"]), ids)

    def _op_exists(self, call: ipc.Call) -> bool:
        hosted = self._hosted(call.sid)
        with self._library:
            return hosted.client.exists(str(call.args["phone"]))

    def _hosted(self, sid: int) -> Hosted:
        with self._sessions_lock:
            hosted = self.sessions.get(sid)
        if hosted is None:
            raise ClientError(f"session {sid} is not open")
        return hosted

    def _stop(self, hosted: Hosted, wait_s: float = _STOP_WAIT_S) -> None:
        hosted.stopped.set()
        with self._library:
            hosted.client.stop()
        if hosted.thread is not None:
            hosted.thread.join(wait_s)

    def _stop_all(self) -> None:
        with self._sessions_lock:
            hosted, self.sessions = list(self.sessions.values()), {}
        for each in hosted:
            self._stop(each, wait_s=_STOP_WAIT_S / max(len(hosted), 1))


class LogForwarder(logging.Handler):
    """Sends the worker's log records to the engine as ``log`` events (sid 0)."""

    def __init__(self, channel: Channel) -> None:
        super().__init__(logging.WARNING)
        self.channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        data = {"level": record.levelno, "logger": record.name, "message": record.getMessage()}
        self.channel.send(ipc.Event(sid=0, kind="log", data=data))


def redirect_output(path: str | None) -> None:
    """Point fds 1 and 2 at ``path`` (appended to) or /dev/null: the Go library writes there,
    and the engine reads a crash dump from there."""
    fd = os.open(path or os.devnull, os.O_WRONLY | os.O_APPEND | (os.O_CREAT if path else 0))
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def load_factory(path: str) -> ClientFactory:
    """The ClientFactory ``module:attribute`` names: the object, or what calling it makes."""
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise SystemExit(f"--client must be MODULE:ATTRIBUTE, not {path!r}")
    found = getattr(importlib.import_module(module_name), attribute)
    if isinstance(found, type) or not hasattr(found, "client"):
        found = found()
    factory: ClientFactory = found
    return factory


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m fleetgate_whatsapp.worker")
    parser.add_argument("--fd", type=int, required=True, help="the inherited socket's fd")
    parser.add_argument("--client", required=True, help="MODULE:ATTRIBUTE of the ClientFactory")
    parser.add_argument("--stdio-file", default=None, help="where fds 1 and 2 go")
    args = parser.parse_args(argv)
    redirect_output(args.stdio_file)
    sock = socket.socket(fileno=args.fd)
    channel = Channel(sock)
    logging.getLogger().handlers[:] = [LogForwarder(channel)]
    # os._exit: the library's threads may never return (a login window left open).
    try:
        Worker(channel, load_factory(args.client)).serve()
    except BaseException:
        traceback.print_exc(file=sys.stderr)
        sys.stderr.flush()
        os._exit(1)
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
