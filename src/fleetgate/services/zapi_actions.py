"""Z-API callback content of messages that act on another message (reactions, poll votes,
pins, edits, deletions) and of contact cards, for services/zapi_callbacks.py.

GREEN-API notifies these as messages of their own kinds (reactionMessage, pollUpdateMessage,
editedMessage, deletedMessage, and fleetgate's pinMessage); Z-API shows each as an object of
its own, and needs the callback's envelope (chat, author, time) to say who did what to which
message. The choices made where Z-API's docs leave it open are in docs/z-api.md.
"""

from __future__ import annotations

import re
from typing import Any

# GREEN messageData types that act on another message, and render from the envelope too.
ACTION_KINDS = (
    "reactionMessage",
    "pollUpdateMessage",
    "pinMessage",
    "editedMessage",
    "deletedMessage",
)
# The numbers a vCard links to WhatsApp accounts ("waid=<digits>"), else its TEL values.
_WAID = re.compile(r"waid=(\d+)")
_TEL = re.compile(r"^TEL[^:]*:(.*)$", re.MULTILINE)


def contact_card(card: dict[str, Any]) -> dict[str, Any]:
    """Z-API's contact object of a GREEN contact card (displayName, vcard)."""
    vcard = str(card.get("vcard", ""))
    phones = _WAID.findall(vcard) or [
        "".join(ch for ch in tel if ch.isdigit()) for tel in _TEL.findall(vcard)
    ]
    return {"displayName": card.get("displayName", ""), "vCard": vcard, "phones": phones}


def _actor(envelope: dict[str, Any]) -> str:
    """The number that did what a callback reports: the instance, or the chat's member."""
    if envelope.get("fromMe"):
        return str(envelope.get("connectedPhone", ""))
    return str(envelope.get("participantPhone") or envelope.get("phone", ""))


def _referenced(envelope: dict[str, Any], id_message: str, author: str) -> dict[str, Any]:
    """Z-API's referencedMessage: the message pointed at, and whether the instance wrote it."""
    author = author.removesuffix("@c.us")
    return {
        "messageId": id_message,
        "fromMe": bool(author) and author == envelope.get("connectedPhone"),
        "phone": envelope.get("phone"),
        "participant": author if envelope.get("isGroup") else None,
    }


def action_content(kind: str, data: dict[str, Any], envelope: dict[str, Any]) -> dict[str, Any]:
    """The content keys of a message that acts on another (see ACTION_KINDS)."""
    if kind == "reactionMessage":
        quoted = data.get("quotedMessage") or {}
        reaction = {
            "value": (data.get("extendedTextMessageData") or {}).get("text", ""),
            "time": envelope.get("momment"),
            "reactionBy": _actor(envelope),
            "referencedMessage": _referenced(
                envelope, str(quoted.get("stanzaId", "")), str(quoted.get("participant", ""))
            ),
        }
        return {"reaction": reaction}
    if kind == "pollUpdateMessage":
        poll = data.get("pollMessageData") or {}
        voter = f"{_actor(envelope)}@c.us"
        # The voter's whole selection now (GREEN's tally lists every option's voters).
        chosen = [
            {"name": v.get("optionName", "")}
            for v in poll.get("votes", [])
            if voter in v.get("optionVoters", [])
        ]
        return {"pollVote": {"pollMessageId": poll.get("stanzaId", ""), "options": chosen}}
    if kind == "pinMessage":
        pinned = data.get("pinMessageData") or {}
        pin = {
            "action": pinned.get("action", ""),
            "pinDurationInSecs": pinned.get("durationS", 0),
            "referencedMessage": _referenced(
                envelope, str(pinned.get("stanzaId", "")), str(pinned.get("participant", ""))
            ),
        }
        return {"pinMessage": pin}
    if kind == "editedMessage":
        edit = data.get("editedMessageData") or {}
        # The edited message's own id, so a client finds the message whose text changed.
        return {
            "isEdit": True,
            "messageId": edit.get("stanzaId", ""),
            "text": {"message": edit.get("textMessage", "")},
        }
    deleted = data.get("deletedMessageData") or {}
    return {
        "notification": "REVOKE",
        "notificationParameters": [],
        "referenceMessageId": deleted.get("stanzaId", ""),
    }
