"""The sessions of one worker process: each instance's connection, kept up with backoff.

A session runs its client's blocking ``connect()`` in a daemon thread of its own. A connect
that fails (``ClientError``, or returns while nobody asked it to stop) is reported as
``connect_failed`` and tried again after a jittered exponential pause, until the session is
closed. After ``logged_out``, ``replaced``, ``banned`` or ``qr_expired`` it is not tried again:
the phone, another connection or WhatsApp decided, or a person must scan a new code, and the
engine opens the session anew when it wants one.

A connect thread that does not return after its client was stopped is left behind and
counted (:attr:`Session.abandoned`): the library's unpaired start-up can hang for ever once the
QR window ended (its ``FetchMe`` waits for a device id that never comes). Such threads are
daemons and the worker leaves with ``os._exit``, so they never hold the process up.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fleetgate_whatsapp.client import Client, ClientError, ClientFactory, Received, Store
from fleetgate_whatsapp.ipc import Event, file_text

log = logging.getLogger(__name__)

Emit = Callable[[Event], None]

# Events after which the session is over: nobody reconnects it.
FINAL_EVENTS = frozenset({"logged_out", "replaced", "banned", "qr_expired"})


@dataclass(frozen=True, slots=True)
class Backoff:
    """Pauses between connect attempts: ``min_s`` doubling up to ``max_s``, each drawn between
    half and all of that (jitter keeps many sessions of a dropped network from retrying in
    step)."""

    min_s: float = 1.0
    max_s: float = 60.0

    def delay(self, attempt: int) -> float:
        """The pause before retry number ``attempt`` (1 for the first)."""
        ceiling = min(self.max_s, self.min_s * 2.0 ** min(attempt - 1, 32))
        return ceiling * random.uniform(0.5, 1.0)


class SessionEvents:
    """The ClientEvents of one session: each becomes an Event frame for the engine."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def _emit(self, kind: str, **data: Any) -> None:
        self._session.on_event(kind, data)

    def qr(self, code: str, expires_ms: int) -> None:
        self._session.qr_seen.set()
        self._emit("qr", code=code, expires_ms=expires_ms)

    def qr_expired(self) -> None:
        self._emit("qr_expired")

    def paired(self, jid: str) -> None:
        self._session.jid = jid
        self._emit("paired", jid=jid)

    def connected(self, jid: str) -> None:
        self._session.connected_once = True
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
        data = {f.name: getattr(message, f.name) for f in dataclasses.fields(message)}
        file = data.pop("file")
        if file is not None:
            data["file"] = file_text(file)
        self._emit("message", **data)

    def receipt(self, *, chat_id: str, id_messages: list[str], status: str) -> None:
        self._emit("receipt", chat_id=chat_id, id_messages=list(id_messages), status=status)

    def presence(self, *, chat_id: str, status: str, last_seen_ms: int | None) -> None:
        self._emit("presence", chat_id=chat_id, status=status, last_seen_ms=last_seen_ms)


class Session:
    """One instance's connection in this worker (see the module docstring)."""

    def __init__(
        self,
        sid: int,
        store: Store,
        jid: str | None,
        *,
        emit: Emit,
        backoff: Backoff,
        stop_wait_s: float,
        on_connect: Callable[[], None] = lambda: None,
    ) -> None:
        self.sid = sid
        self.store = store
        self.jid = jid
        self.final: str | None = None  # the event that ended the session for good
        self.abandoned = False  # its connect thread did not come back after a stop
        self.connected_once = False
        self.qr_seen = threading.Event()
        self.done = threading.Event()  # the connect thread has ended
        self._emit = emit
        self._on_connect = on_connect
        self._backoff = backoff
        self._stop_wait_s = stop_wait_s
        self._closing = threading.Event()
        self._client: Client | None = None
        self._thread: threading.Thread | None = None

    @property
    def client(self) -> Client:
        if self._client is None:
            raise ClientError(f"session {self.sid} has no client")
        return self._client

    @property
    def live(self) -> bool:
        """Connecting, connected or waiting to retry (not closed, not ended for good)."""
        return self.final is None and not self._closing.is_set()

    def start(self, factory: ClientFactory) -> None:
        """Make the client and start its connect thread."""
        self._client = factory.client(self.store, self.jid, SessionEvents(self))
        self._thread = threading.Thread(target=self._run, name=f"session-{self.sid}", daemon=True)
        self._thread.start()

    def on_event(self, kind: str, data: dict[str, Any]) -> None:
        """Forward an event; one that ends the session stops its client (in another thread:
        this one may be the library's callback thread)."""
        self._emit(Event(sid=self.sid, kind=kind, data=data))
        if kind in FINAL_EVENTS and self.final is None:
            self.final = kind
            log.info("session %d: %s, not reconnecting", self.sid, kind)
            threading.Thread(target=self._stop, name=f"stop-{self.sid}", daemon=True).start()

    def close(self) -> None:
        """Stop the connection and any retry; wait a while for the connect thread."""
        self._closing.set()
        self._stop()

    def _stop(self) -> None:
        if self._client is not None:
            try:
                self._client.stop()
            except Exception:
                log.exception("session %d: stopping the client failed", self.sid)
        if self._thread is not None and not self.done.wait(self._stop_wait_s):
            self.abandoned = True
            log.warning(
                "session %d: its connect thread did not return within %.0f s of the stop; "
                "left behind (it ends with the worker)",
                self.sid,
                self._stop_wait_s,
            )

    def _run(self) -> None:
        attempt = 0
        try:
            while self.live:
                self.connected_once = False
                error = self._connect_once()
                if not self.live:
                    break
                attempt = 1 if self.connected_once else attempt + 1
                pause = self._backoff.delay(attempt)
                log.info(
                    "session %d: connect failed (%s); retry %d in %.1f s",
                    self.sid,
                    error,
                    attempt,
                    pause,
                )
                self._emit(
                    Event(
                        sid=self.sid,
                        kind="connect_failed",
                        data={"error": error, "attempt": attempt, "retry_s": round(pause, 3)},
                    )
                )
                if self._closing.wait(pause):
                    break
        finally:
            self.done.set()

    def _connect_once(self) -> str:
        """Run one connect; the reason it ended (when nobody stopped it)."""
        self._on_connect()
        try:
            self.client.connect()
        except ClientError as exc:
            return str(exc) or "connect failed"
        except Exception as exc:
            log.exception("session %d: connect raised", self.sid)
            return f"{type(exc).__name__}: {exc}"
        return "the connection ended"
