"""A worker process: the only kind of process that runs the WhatsApp library.

``python -m fleetgate_whatsapp.worker --fd N [--client MODULE:NAME] ...``

The engine starts it with one end of a Unix stream socket as fd ``N`` and speaks the frames
of ``ipc.py`` over it. The worker serves the calls (``open``, ``close``, ``logout``,
``pair_phone``, ``send``, ``mark_read``, ``exists``, ``ping``, ``migrate``, and the group and
chat ops of ``args.py``) in a thread pool, and sends the sessions' events back.

Its stdout and stderr belong to the library: its Go layer prints there (and dies there, with
a Go stack dump, when it aborts). Right after reading its arguments the worker points fds 1
and 2 at ``--stdio-file`` (appended to, so a crash dump survives for the engine to read) or at
/dev/null. Its own log records go to the engine as ``log`` events on sid 0, filtered at
``--log-level``; the engine logs them as its own.

It stops on end of stream (the engine closed the socket or died) and on SIGTERM: sessions are
stopped, queued frames written, and the process leaves with ``os._exit`` so that a connect
thread stuck in the library cannot hold it up.

The library never closes the store a connect opened (a SQLite file, a PostgreSQL connection,
about 0.2 MB each here), so a worker whose sessions keep failing to connect (a long network
outage) grows without bound. After ``--recycle-after`` connect attempts it stops the same way
and exits with :data:`EXIT_RECYCLE`: the engine starts a fresh worker and reopens the sessions
from their stores.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import inspect
import logging
import os
import resource
import signal
import socket
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any, NoReturn, cast

from fleetgate_whatsapp.args import HANDLERS, file_arg, text_arg
from fleetgate_whatsapp.channel import BadFrame, Channel
from fleetgate_whatsapp.client import (
    ClientError,
    ClientFactory,
    FactoryOptions,
    MakeFactory,
    Store,
)
from fleetgate_whatsapp.ipc import Call, Event, Reply, frame_limit
from fleetgate_whatsapp.sessions import Backoff, Session

log = logging.getLogger(__name__)

DEFAULT_CLIENT = "fleetgate_whatsapp.neonize_client:NeonizeFactory"
EXIT_SETUP = 3  # the factory could not be loaded
EXIT_RECYCLE = 75  # asked to be replaced (see the module docstring)


class Worker:
    """Serves the engine's calls on a channel, with sessions made by ``factory``."""

    def __init__(
        self,
        channel: Channel,
        factory: ClientFactory,
        *,
        backoff: Backoff,
        stop_wait_s: float = 5.0,
        call_threads: int = 64,
        recycle_after: int = 0,
    ) -> None:
        self._channel = channel
        self._factory = factory
        self._backoff = backoff
        self._stop_wait_s = stop_wait_s
        self._recycle_after = recycle_after
        self.connects = 0  # connect attempts since the worker started
        self.recycling = False
        self._pool = ThreadPoolExecutor(call_threads, thread_name_prefix="call")
        self._lock = threading.Lock()
        self._sessions: dict[int, Session] = {}
        self._migrated: set[str] = set()
        self._migrating: dict[str, threading.Lock] = {}  # one per store: stores migrate apart

    def serve(self) -> None:
        """Read and dispatch calls until the end of the stream."""
        while True:
            try:
                frame = self._channel.read()
            except BadFrame as exc:
                log.warning("refused a frame: %s", exc)
                if exc.call_id is not None:
                    self._channel.send(Reply(id=exc.call_id, ok=False, error=f"bad frame: {exc}"))
                continue
            if frame is None:
                return
            if not isinstance(frame, Call):
                log.warning("ignored a %s frame: the worker takes only calls", type(frame).__name__)
                continue
            if frame.op == "ping":
                # Answered here, never behind a busy pool: the engine checks liveness with it.
                self._channel.send(Reply(id=frame.id, ok=True, result=os.getpid()))
                continue
            self._pool.submit(self._answer, frame)

    def shutdown(self, budget_s: float) -> None:
        """Stop every session, each in its own thread, within ``budget_s`` in all."""
        with self._lock:
            sessions = list(self._sessions.values())
            self._sessions.clear()
        closers = [
            threading.Thread(target=session.close, name=f"close-{session.sid}", daemon=True)
            for session in sessions
        ]
        for closer in closers:
            closer.start()
        deadline = time.monotonic() + budget_s
        for closer in closers:
            closer.join(max(0.0, deadline - time.monotonic()))
        left = sum(1 for session in sessions if session.abandoned or not session.done.is_set())
        if left:
            log.warning("%d session(s) still inside the library at shutdown", left)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _answer(self, call: Call) -> None:
        try:
            result = self._handle(call)
        except ClientError as exc:
            reply = Reply(id=call.id, ok=False, error=str(exc) or type(exc).__name__)
        except Exception as exc:
            log.exception("call %s on session %d failed", call.op, call.sid)
            reply = Reply(id=call.id, ok=False, error=f"internal error: {type(exc).__name__}")
        else:
            reply = Reply(id=call.id, ok=True, result=result)
        self._channel.send(reply)

    def _handle(self, call: Call) -> Any:
        args = call.args
        if call.op == "open":
            return self._open(call.sid, Store(text_arg(args, "store")), _jid(args))
        if call.op == "migrate":
            self._migrate(Store(text_arg(args, "store")))
            return None
        if call.op == "close":
            with self._lock:
                session = self._sessions.pop(call.sid, None)
            if session is not None:
                session.close()
            return None
        session = self._session(call.sid)
        if call.op == "logout":
            session.client.logout()
            with self._lock:
                if self._sessions.get(call.sid) is session:
                    del self._sessions[call.sid]
            session.close()
            return None
        if call.op == "pair_phone":
            return self._pair_phone(session, text_arg(args, "phone"))
        if call.op == "send":
            data = args["message_data"]
            if not isinstance(data, dict):
                raise ClientError("message_data must be an object")
            return session.client.send(text_arg(args, "chat_id"), data, file_arg(args))
        if call.op == "mark_read":
            ids = args["id_messages"]
            if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
                raise ClientError("id_messages must be a list of strings")
            session.client.mark_read(text_arg(args, "chat_id"), text_arg(args, "sender"), ids)
            return None
        if call.op == "exists":
            return session.client.exists(text_arg(args, "phone"))
        handler = HANDLERS.get(call.op)
        if handler is not None:
            return handler(session.client, args)
        raise ClientError(f"op {call.op!r} is not served")  # ipc.decode knows no other

    def _open(self, sid: int, store: Store, jid: str | None) -> None:
        session = Session(
            sid,
            store,
            jid,
            emit=self._channel.send,
            on_connect=self._count_connect,
            backoff=self._backoff,
            stop_wait_s=self._stop_wait_s,
        )
        with self._lock:
            old = self._sessions.get(sid)
            if old is not None and old.live:
                raise ClientError(f"session {sid} is already open")
            self._sessions[sid] = session
        try:
            if old is not None:
                old.close()  # ended for good already: its client is stopped
            self._migrate(store)
            if jid is not None and not self._factory.has_device(store, jid):
                # Connecting the library to a device its store no longer holds ends the process.
                self._channel.send(
                    Event(sid=sid, kind="logged_out", data={"reason": "device no longer linked"})
                )
                raise ClientError("device no longer linked")
            session.start(self._factory)
        except BaseException:
            with self._lock:
                if self._sessions.get(sid) is session:
                    del self._sessions[sid]
            raise

    def _count_connect(self) -> None:
        with self._lock:
            self.connects += 1
            due = not self.recycling and 0 < self._recycle_after <= self.connects
            if due:
                self.recycling = True
        if due:
            log.warning(
                "%d connect attempts: the library keeps a store open for each; "
                "stopping so that the engine starts a fresh worker",
                self.connects,
            )
            self._channel.interrupt()

    def _migrate(self, store: Store) -> None:
        """Create or upgrade a store's tables once per worker, before any session uses it
        (first connects racing on a fresh store fail on schema creation)."""
        with self._lock:
            lock = self._migrating.setdefault(store.dsn, threading.Lock())
        with lock:
            if store.dsn not in self._migrated:
                self._factory.migrate(store)
                self._migrated.add(store.dsn)

    def _session(self, sid: int) -> Session:
        with self._lock:
            session = self._sessions.get(sid)
        if session is None:
            raise ClientError(f"session {sid} is not open")
        return session

    @staticmethod
    def _pair_phone(session: Session, phone: str) -> str:
        if session.jid is not None:
            raise ClientError("the device is linked already")
        # The library pairs by code only once the login window is open (its first QR).
        if not session.qr_seen.wait(30.0):
            raise ClientError("no login window is open (is the network up?)")
        return session.client.pair_phone(phone)


def _jid(args: dict[str, Any]) -> str | None:
    value = args["jid"]
    if value is None:
        return None
    if not isinstance(value, str) or "@" not in value:
        raise ClientError("jid must be a device JID (user:device@s.whatsapp.net) or null")
    return value


class IpcLogHandler(logging.Handler):
    """Sends log records to the engine as ``log`` events (dropped when the queue is full)."""

    def __init__(self, channel: Channel, level: int) -> None:
        super().__init__(level)
        self._channel = channel

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                message += "\n" + logging.Formatter().formatException(record.exc_info)
            data = {"level": record.levelno, "logger": record.name, "message": message}
            self._channel.send_nowait(Event(sid=0, kind="log", data=data))
        except Exception:
            self.handleError(record)


def load_factory(spec: str, options: FactoryOptions) -> ClientFactory:
    """The factory ``MODULE:NAME`` names: an instance, or a class or function called with the
    options."""
    module_name, _, name = spec.partition(":")
    if not module_name or not name:
        raise ValueError(f"--client must be MODULE:NAME, not {spec!r}")
    target: Any = getattr(importlib.import_module(module_name), name)
    if inspect.isclass(target) or inspect.isfunction(target):
        return cast(MakeFactory, target)(options)
    return cast(ClientFactory, target)


def redirect_stdio(path: str | None) -> None:
    """Point fds 1 and 2 at ``path`` (appended to) or /dev/null: the Go layer writes there."""
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT if path else os.O_WRONLY
    fd = os.open(path or os.devnull, flags, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)


def raise_open_files_limit() -> None:
    """Every store the library opens stays open (a SQLite file, a PostgreSQL connection)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    defaults = FactoryOptions()
    parser = argparse.ArgumentParser(prog="python -m fleetgate_whatsapp.worker")
    add = parser.add_argument
    add("--fd", type=int, required=True, help="the inherited IPC socket")
    add("--client", default=DEFAULT_CLIENT, help="MODULE:NAME of the ClientFactory")
    add("--log-level", default="INFO", help="lowest level of records sent to the engine")
    add("--stdio-file", default=None, help="where fds 1 and 2 go (default: /dev/null)")
    add("--backoff-min", type=float, default=1.0, help="first pause between connects (s)")
    add("--backoff-max", type=float, default=60.0, help="longest pause between connects (s)")
    add("--stop-wait", type=float, default=5.0, help="wait for a stopped connect (s)")
    add("--call-threads", type=int, default=64, help="calls served at once")
    add("--recycle-after", type=int, default=2000, help="connect attempts, then exit 75")
    add(
        "--media-max-bytes",
        type=int,
        default=defaults.media_max_bytes,
        help="the largest file a message carries (frames are bounded accordingly)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> NoReturn:
    args = parse_args(argv)
    level = logging.getLevelName(args.log_level.upper())
    if not isinstance(level, int):
        sys.exit(f"unknown log level {args.log_level!r}")
    sock = socket.socket(fileno=args.fd)
    channel = Channel(sock, frame_limit(args.media_max_bytes))
    root = logging.getLogger()
    root.handlers[:] = [IpcLogHandler(channel, level)]
    root.setLevel(level)
    redirect_stdio(args.stdio_file)
    raise_open_files_limit()
    options = FactoryOptions(
        log_level=level,
        media_max_bytes=args.media_max_bytes,
    )
    try:
        factory = load_factory(args.client, options)
    except Exception:
        log.critical("cannot load the client factory %s", args.client, exc_info=True)
        channel.close(5.0)
        leave(EXIT_SETUP)
    worker = Worker(
        channel,
        factory,
        backoff=Backoff(args.backoff_min, args.backoff_max),
        stop_wait_s=args.stop_wait,
        call_threads=args.call_threads,
        recycle_after=args.recycle_after,
    )
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: channel.interrupt())
    log.info("worker %d serving (client %s)", os.getpid(), args.client)
    worker.serve()
    log.info("worker %d stopping", os.getpid())
    worker.shutdown(args.stop_wait)
    channel.close(2.0)
    leave(EXIT_RECYCLE if worker.recycling else 0)


def leave(code: int) -> NoReturn:
    """End the process now: threads stuck in the library (see sessions.py) must not keep it
    alive, so no interpreter shutdown. A process that coverage measures (the test suite's
    workers) writes its data first, which only an orderly exit would do."""
    measuring = sys.modules.get("coverage")
    current = getattr(getattr(measuring, "Coverage", None), "current", None)
    running = current() if current is not None else None
    if running is not None:
        running.stop()
        running.save()
    os._exit(code)


if __name__ == "__main__":
    main()
