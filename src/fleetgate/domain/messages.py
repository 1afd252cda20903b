"""Messages: journal entries, their direction and the statuses they go through."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class Direction(enum.StrEnum):
    """Whether the instance sent (out) or received (in) a message."""

    IN = "in"
    OUT = "out"


class MessageStatus(enum.StrEnum):
    """A message's status: outgoing queued -> sent -> delivered -> read, or one of the final
    failures; incoming unread -> read. GREEN-API's outgoingMessageStatus names."""

    QUEUED = "queued"
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"
    NO_ACCOUNT = "noAccount"
    NOT_IN_GROUP = "notInGroup"
    EXPIRED = "expired"
    UNREAD = "unread"


# Receipt statuses of outgoing messages, in the order they can advance.
RECEIPT_ORDER = (MessageStatus.SENT, MessageStatus.DELIVERED, MessageStatus.READ)
# Statuses of outgoing messages that never left.
FAILED_STATUSES = (
    MessageStatus.FAILED,
    MessageStatus.NO_ACCOUNT,
    MessageStatus.NOT_IN_GROUP,
    MessageStatus.EXPIRED,
)


@dataclass(frozen=True, slots=True)
class Message:
    """One journal entry."""

    id: int
    id_instance: int
    id_message: str
    direction: str
    chat_id: str
    sender: str
    sender_name: str
    type_message: str
    data: str
    at_ms: int
    status: str
    send_by_api: bool
    queued: bool
    delay_ms: int = 0
    # The stored file of a file message (see domain/files.py), once it is stored.
    media_key: str | None = None
    # What the request that queued it said, as JSON ({"type", "body"}), for showMessagesQueue.
    request: str | None = None
