"""Z-API chat bodies and answers (spec §10): camelCase and string flags live only here."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api.zapi.lists import shown
from fleetgate.domain.chats import ChatOverview

_BODY = ConfigDict(extra="ignore", strict=True)
PHONE_MAX = 64
# chatExpiration -> the disappearing timer in seconds (Z-API offers these four).
EXPIRATIONS = {"OFF": 0, "24_HOURS": 86_400, "7_DAYS": 604_800, "90_DAYS": 7_776_000}

Action = Literal[
    "archive", "unarchive", "pin", "unpin", "mute", "unmute", "clear", "delete", "read", "unread"
]


class ModifyChat(BaseModel):
    """POST modify-chat."""

    model_config = _BODY
    phone: str = Field(min_length=1, max_length=PHONE_MAX)
    action: Action


class ChatExpiration(BaseModel):
    """POST send-chat-expiration."""

    model_config = _BODY
    phone: str = Field(min_length=1, max_length=PHONE_MAX)
    chatExpiration: Literal["OFF", "24_HOURS", "7_DAYS", "90_DAYS"]


def _flag(value: bool) -> str:
    # The examples show these flags as strings; clients read both.
    return "true" if value else "false"


def muted(chat: ChatOverview, now: int) -> bool:
    until = chat.mute_until_ms
    return until is not None and (until < 0 or until > now)


def chat_item(chat: ChatOverview, now: int, *, announce: bool = False) -> dict[str, Any]:
    """One chat of ``GET /chats`` and ``GET /groups`` as the examples show it."""
    is_group = chat.chat_id.endswith("@g.us")
    unread = chat.unread or (1 if chat.unread_mark else 0)
    return {
        "archived": _flag(chat.archived),
        "pinned": _flag(chat.pinned),
        "messagesUnread": 0,
        "phone": shown(chat.chat_id),
        "unread": str(unread),
        # A group's name is its id here (the spec's list); GET /groups shows its subject.
        "name": shown(chat.chat_id) if is_group else (chat.name or shown(chat.chat_id)),
        "lastMessageTime": str(chat.last_ms),
        "muteEndTime": chat.mute_until_ms if muted(chat, now) else None,
        "isMuted": "1" if muted(chat, now) else "0",
        "isMarkedSpam": "false",
        "isGroupAnnouncement": announce,
        "isGroup": is_group,
    }


def chat_metadata(chat: ChatOverview, now: int, *, about: str = "") -> dict[str, Any]:
    """``GET /chats/{phone}``: one chat's metadata."""
    item = chat_item(chat, now)
    return {
        "phone": item["phone"],
        "unread": item["unread"],
        "lastMessageTime": item["lastMessageTime"],
        "isMuted": item["isMuted"],
        "muteEndTime": item["muteEndTime"],
        "isMarkedSpam": "false",
        "profileThumbnail": None,
        "messagesUnread": 0,
        "about": about,
        "isGroupAnnouncement": False,
        "isGroup": item["isGroup"],
        "archived": item["archived"],
        "pinned": item["pinned"],
        "notes": None,
    }
