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


def reaction(id_message: str, participant: str, emoji: str) -> dict[str, Any]:
    """The messageData of a reaction to ``id_message``, written by ``participant`` (a chat
    id); ``emoji`` "" takes a reaction back (GREEN-API's reactionMessage)."""
    return {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": emoji},
        "quotedMessage": {"stanzaId": id_message, "participant": participant},
    }


def poll_vote(
    id_message: str, poll: dict[str, Any], voter: str, chosen: list[str]
) -> dict[str, Any]:
    """The messageData of a poll's tally after ``voter`` (a chat id) chose ``chosen`` (GREEN-API's
    pollUpdateMessage; in a chat of two the voter is the only one)."""
    return {
        "typeMessage": "pollUpdateMessage",
        "pollMessageData": {
            "stanzaId": id_message,
            "name": poll.get("name", ""),
            "votes": [
                {
                    "optionName": o["optionName"],
                    "optionVoters": [voter] if o["optionName"] in chosen else [],
                }
                for o in poll.get("options", [])
            ],
            "multipleAnswers": bool(poll.get("multipleAnswers", False)),
        },
    }


def pin(id_message: str, participant: str, *, pinned: bool, duration_s: int) -> dict[str, Any]:
    """The messageData of pinning ``id_message`` (by ``participant``, a chat id) in its chat
    for ``duration_s`` seconds, or of unpinning it. GREEN-API has no such type: fleetgate
    names it ``pinMessage``, shaped as its other messages that point at one."""
    return {
        "typeMessage": "pinMessage",
        "pinMessageData": {
            "stanzaId": id_message,
            "participant": participant,
            "action": "pin" if pinned else "unpin",
            "durationS": duration_s,
        },
    }
