"""What a session knows of its device, and how that becomes SessionEvents calls.

The state an instance shows is derived from a few facts (linked or not, connected or not,
banned), never set directly, and reported only when it changes: events that repeat a fact
(a ``connected`` after the session already said "authorized") report nothing. Which state
stands for what is written in docs/whatsapp.md, "States".
"""

from __future__ import annotations

import asyncio
import enum
import logging
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fleetgate.domain.instances import State
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import IncomingMessage, QrCode, SessionEvents
from fleetgate.storage.blobs import BlobStore
from fleetgate.storage.db import is_busy, is_unavailable
from fleetgate_whatsapp.ipc import ProtocolError, file_bytes
from fleetgate_whatsapp.received import store_received

log = logging.getLogger(__name__)

RECEIPT_STATUS = {
    "delivered": MessageStatus.DELIVERED,
    "read": MessageStatus.READ,
    # Translated to "read" by the worker already; kept for a worker that does not.
    "played": MessageStatus.READ,
}
_PHONE = re.compile(r"^(\d+)")


def wid_of(jid: str) -> str:
    """``79001234567@c.us`` from a device JID such as ``79001234567:12@s.whatsapp.net``."""
    found = _PHONE.match(jid)
    return f"{found.group(1) if found else jid.split('@', 1)[0]}@c.us"


class Next(enum.Enum):
    """What the session must do about an event, beyond reporting it."""

    NEW_LOGIN = "new_login"  # logged out: open a new device, so that a QR comes
    STEP_ASIDE = "step_aside"  # replaced: close the connection and leave it closed
    RETRY_AFTER_BAN = "retry_after_ban"  # banned for ban_s seconds: connect again after


class Device:
    """The facts about one instance's device and what was last reported of them."""

    def __init__(
        self,
        sid: int,
        events: SessionEvents,
        auth: dict[str, Any] | None,
        alive: Callable[[], bool],
        ours: Callable[[str], str] = str,
        blobs: BlobStore | None = None,
    ) -> None:
        self.sid = sid
        self._blobs = blobs  # where received files go (None: they are not kept)
        # Our id of a message WhatsApp names by its own (a receipt can come before the runner
        # wrote WhatsApp's id down); the id itself when this process did not send it.
        self._ours = ours
        self.events = events
        self.auth = auth
        jid = (auth or {}).get("jid")
        self.jid: str | None = jid if isinstance(jid, str) and jid else None
        self.qr: QrCode | None = None
        self.qr_expired = False
        self.offline = False
        self.banned = False
        self.ban_s = 0.0
        self.replaced = False
        self._alive = alive
        self._reported: tuple[State, str] | None = None

    def state_now(self) -> tuple[State, str]:
        if self.jid is None:
            return State.NOT_AUTHORIZED, ""
        wid = wid_of(self.jid)
        if self.banned:
            return State.BLOCKED, wid
        # Linked, but not connected (no network, worker restarting): nothing can be sent.
        if self.offline:
            return State.STARTING, wid
        return State.AUTHORIZED, wid

    async def report(self) -> None:
        state, wid = self.state_now()
        if (state, wid) != self._reported:
            await self.durably(lambda: self.events.state_changed(state, wid=wid))
            self._reported = (state, wid)

    async def on_event(self, kind: str, data: dict[str, Any], *, current: bool) -> Next | None:
        """Report one event of the worker. ``current``: it comes from the connection open now
        (what a closed connection said about itself is history; its messages are not)."""
        if kind == "message":
            await self._message(data)
        elif kind == "receipt":
            status = RECEIPT_STATUS.get(str(data["status"]))
            if status is not None:  # other kinds (retry, server error) say nothing to report
                for id_message in data["id_messages"]:
                    await self._receipt(self._ours(str(id_message)), str(data["chat_id"]), status)
        elif kind == "presence":
            await self._presence(data)
        elif current:
            return await self._on_connection_event(kind, data)
        return None

    async def _on_connection_event(self, kind: str, data: dict[str, Any]) -> Next | None:
        if kind == "qr":
            self.qr = QrCode(payload=str(data["code"]), expires_ms=int(data["expires_ms"]))
            self.qr_expired = self.offline = False
        elif kind == "qr_expired":
            self.qr, self.qr_expired = None, True
        elif kind in ("paired", "connected"):
            if self.offline and self.jid is not None:
                log.info("whatsapp instance %s is connected again", self.sid)
            await self.linked(str(data["jid"]))
        elif kind in ("disconnected", "connect_failed"):
            if not self.offline:  # once per spell offline, not at every retry
                reason = data.get("reason", data.get("error", ""))
                log.warning("whatsapp instance %s is offline: %s", self.sid, reason)
            self.offline = True
            await self.report()
        elif kind == "logged_out":
            log.info("whatsapp instance %s was logged out: %s", self.sid, data["reason"])
            await self.forget()
            return Next.NEW_LOGIN
        elif kind == "banned":
            log.warning(
                "whatsapp instance %s is banned for %s s: %s",
                self.sid,
                data["expire_s"],
                data["reason"],
            )
            self.banned, self.ban_s = True, float(data["expire_s"])
            await self.report()
            return Next.RETRY_AFTER_BAN
        elif kind == "replaced":
            # Another connection of this device took over (another host runs it): leave it be.
            log.warning("whatsapp instance %s was replaced by another connection", self.sid)
            self.replaced = True
            return Next.STEP_ASIDE
        return None

    async def _message(self, data: dict[str, Any]) -> None:
        """A message that arrived, or (``from_me``) one the account's own phone sent; a file
        the worker downloaded with it is stored first (once: not again if reporting waits
        out a database outage)."""
        file = None
        if "file" in data and self._blobs is not None:
            try:
                # Tens of megabytes of base64: decoded beside the event loop, not on it.
                content = await asyncio.to_thread(file_bytes, data["file"])
            except ProtocolError as exc:
                log.warning("whatsapp instance %s: a received file: %s", self.sid, exc)
            else:
                file = await store_received(
                    self._blobs, content, data["message_data"], str(data["id_message"])
                )
        message = IncomingMessage(
            id_message=str(data["id_message"]),
            chat_id=str(data["chat_id"]),
            sender=str(data["sender"]),
            sender_name=str(data["sender_name"]),
            message_data=dict(data["message_data"]),
            from_me=bool(data["from_me"]),
            at_ms=int(data["timestamp_s"]) * 1000 or None,
            file=file,
        )
        await self.durably(lambda: self.events.message_received(message))

    async def _receipt(self, id_message: str, chat_id: str, status: MessageStatus) -> None:
        await self.durably(
            lambda: self.events.receipt(id_message=id_message, chat_id=chat_id, status=status)
        )

    async def _presence(self, data: dict[str, Any]) -> None:
        last_seen = data["last_seen_ms"]
        await self.durably(
            lambda: self.events.presence(
                chat_id=str(data["chat_id"]),
                status=str(data["status"]),
                last_seen_ms=int(last_seen) if last_seen is not None else None,
            )
        )

    async def linked(self, jid: str) -> None:
        self.jid = jid
        self.qr = None
        self.offline = self.banned = False
        await self.save_auth({"jid": jid})
        await self.report()

    async def forget(self) -> None:
        self.jid = self.qr = None
        self.offline = self.banned = False
        await self.save_auth(None)
        await self.report()

    async def opening(self) -> None:
        """A new connection opens: what was known of the last one no longer holds."""
        self.qr = None
        self.qr_expired = self.offline = False

    async def open_failed(self) -> None:
        self.offline = True
        await self.report()

    async def worker_gone(self) -> None:
        self.offline = True
        self.qr = None
        await self.report()

    async def unbanned(self) -> None:
        self.banned = False

    async def save_auth(self, auth: dict[str, Any] | None) -> None:
        if auth != self.auth:
            await self.durably(lambda: self.events.auth_changed(auth))
            self.auth = auth

    async def durably(self, report: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Report, waiting out a database outage (what WhatsApp delivered is not sent again)."""
        pause = 0.2
        while True:
            try:
                await report()
                return
            except Exception as exc:
                if not (is_unavailable(exc) or is_busy(exc)) or not self._alive():
                    raise
                if pause == 0.2:
                    log.warning("whatsapp instance %s waits for the database: %s", self.sid, exc)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)
