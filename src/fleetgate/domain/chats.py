"""Chats and calls: what an instance set on a chat, and the calls it took part in."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

# The disappearing-message timers WhatsApp offers, in seconds (0: off).
EPHEMERAL_EXPIRATIONS = (0, 86_400, 604_800, 7_776_000)


class CallStatus(enum.StrEnum):
    """A call's status as GREEN-API names it: ringing (offer), then how it ended."""

    OFFER = "offer"
    PICK_UP = "pickUp"
    HANG_UP = "hangUp"
    DECLINED = "declined"


# How a call can end.
CALL_ENDS = (CallStatus.PICK_UP, CallStatus.HANG_UP, CallStatus.DECLINED)


@dataclass(frozen=True, slots=True)
class ChatInfo:
    """A chat as getChats shows it."""

    chat_id: str
    name: str
    archived: bool
    ephemeral_expiration: int
    ephemeral_ms: int


@dataclass(frozen=True, slots=True)
class ChatOverview:
    """One chat of the list: its newest message (epoch ms; 0: none), unread messages since
    it was last cleared, and its marks."""

    chat_id: str
    name: str
    last_ms: int
    unread: int
    archived: bool
    pinned: bool
    mute_until_ms: int | None
    unread_mark: bool
    ephemeral_expiration: int


@dataclass(frozen=True, slots=True)
class Call:
    """One entry of the call journals."""

    id_call: str
    direction: str
    chat_id: str
    is_video: bool
    status: str
    started_ms: int
    at_ms: int
    duration_s: int


def edited(id_message: str, text: str) -> dict[str, Any]:
    """The messageData of an edit of ``id_message`` (GREEN-API's editedMessage)."""
    return {
        "typeMessage": "editedMessage",
        "editedMessageData": {"textMessage": text, "stanzaId": id_message},
    }


def deleted(id_message: str) -> dict[str, Any]:
    """The messageData of a deletion of ``id_message`` (GREEN-API's deletedMessage)."""
    return {"typeMessage": "deletedMessage", "deletedMessageData": {"stanzaId": id_message}}
