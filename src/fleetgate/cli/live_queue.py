"""The notifications `fleetgate whatsapp check` reads after it sent its message.

The check owns the instance's queue while it runs: it takes every notification in turn and
deletes it (so that the ones behind it come), keeps the statuses of its own message and the
reply from the phone it wrote to, and names the rest in a line each as ignored. What the queue
held before the check's message cannot be the reply: a reply must be newer than the message.
"""

from __future__ import annotations

import time
from typing import Any

from fleetgate.cli.live_client import CheckFailed, InstanceApi, say
from fleetgate.domain.messages import MessageStatus

# WhatsApp's clock (a message's timestamp) may run behind this machine's by this much.
CLOCK_SKEW_S = 60
# Statuses after which the message never reaches the phone (GREEN-API §3.4).
_FINAL = {
    MessageStatus.FAILED: "sending failed",
    MessageStatus.NO_ACCOUNT: "WhatsApp says the number has no account",
    MessageStatus.EXPIRED: "the message expired in the queue",
    "yellowCard": "WhatsApp suspended sending from this account",
    "notInGroup": "the account is not in that group",
}
_ARRIVED = (MessageStatus.DELIVERED, MessageStatus.READ)
TEXT_SHOWN = 60


class QueueReader:
    """What the check learnt from the queue: statuses of its message, and the reply."""

    def __init__(self, api: InstanceApi, *, to: str, id_message: str, since: float) -> None:
        self.api = api
        self.chat = f"{to}@c.us"
        self.id_message = id_message
        self.since = since  # UNIX time just before sendMessage
        self.sent_at = time.monotonic()
        self.statuses: dict[str, float] = {}
        self.reply: str | None = None

    def delivered(self) -> bool:
        return any(s in self.statuses for s in _ARRIVED)

    def pump(self, deadline: float) -> None:
        """Wait for one notification (a long poll), take it in and delete it."""
        item = self.api.receive(deadline=deadline)
        if item is None:
            return
        body = item.get("body")
        try:
            self._take(body if isinstance(body, dict) else {})
        finally:
            receipt = item.get("receiptId")
            if isinstance(receipt, int):
                self.api.acknowledge(receipt, deadline=deadline + 10)

    def _take(self, body: dict[str, Any]) -> None:
        kind = str(body.get("typeWebhook") or "(no typeWebhook)")
        if kind == "outgoingMessageStatus" and body.get("idMessage") == self.id_message:
            self._status(body)
            return
        chat = _sender_chat(body)
        if kind == "incomingMessageReceived" and chat == self.chat:
            timestamp = body.get("timestamp")
            if isinstance(timestamp, int) and timestamp >= self.since - CLOCK_SKEW_S:
                if self.reply is None:
                    self.reply = _message_text(body)
                    say(f"      reply received: {self.reply}")
                return
            say(f"      ignored an older message from {chat}")
            return
        say(f"      ignored {kind}" + (f" from {chat}" if chat else ""))

    def _status(self, body: dict[str, Any]) -> None:
        status = str(body.get("status"))
        if status in _FINAL:
            description = body.get("description")
            extra = f": {description}" if isinstance(description, str) and description else ""
            raise CheckFailed(f"{_FINAL[status]} (status {status}{extra})")
        if status not in self.statuses:
            self.statuses[status] = time.monotonic() - self.sent_at
            say(f"      status {status} ({self.statuses[status]:.1f} s after sending)")

    def statuses_text(self) -> str:
        seen = ", ".join(f"{s} after {t:.1f} s" for s, t in self.statuses.items())
        if MessageStatus.SENT not in self.statuses:
            seen += " (no separate sent status)"
        return seen

    def why_no_receipt(self, timeout: float) -> str:
        if MessageStatus.SENT in self.statuses:
            return (
                f"WhatsApp took the message (sent) but the phone did not confirm delivery within "
                f"{timeout:g} s: is that phone online, and is --to its number?"
            )
        return (
            f"no status of message {self.id_message} within {timeout:g} s: it did not leave "
            "the server; see showMessagesQueue, getStateInstance and the server log"
        )


def _sender_chat(body: dict[str, Any]) -> str:
    sender = body.get("senderData")
    chat = sender.get("chatId") if isinstance(sender, dict) else None
    return chat if isinstance(chat, str) else ""


def _message_text(body: dict[str, Any]) -> str:
    """The reply in a few words: its type and the start of its text."""
    data = body.get("messageData")
    data = data if isinstance(data, dict) else {}
    kind = str(data.get("typeMessage") or "message")
    text = ""
    for key, field in (("textMessageData", "textMessage"), ("extendedTextMessageData", "text")):
        part = data.get(key)
        if isinstance(part, dict) and isinstance(part.get(field), str):
            text = part[field]
            break
    shown = text[:TEXT_SHOWN] + ("..." if len(text) > TEXT_SHOWN else "")
    return f"{kind} {shown!r}" if text else kind
