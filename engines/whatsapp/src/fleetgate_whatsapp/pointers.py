"""Messages that point at another message: reactions and pins; used inside worker processes
only (through ``outgoing.py``).

WhatsApp names the message pointed at by its key: its chat, its id, ``fromMe`` (the account
wrote it) and, in a group, who wrote it when that was someone else. fleetgate's messageData
name the author as a chat id (``quotedMessage.participant`` of a reactionMessage,
``pinMessageData.participant`` of fleetgate's pinMessage: ``domain/chats.py``); the engine
tells the account from the others by its own chat id (``me``). The keys are built here from
the protobuf classes, as the library's builders would, but without asking the library who the
account is (``get_me`` ends the process on a stopped connection: ``edits.py``).

Poll votes are not built here: a vote is encrypted with the poll's secret, which the library
finds by the poll's chat, author and id, and a pollUpdateMessage names no author
(docs/whatsapp.md, *Optional methods*).
"""

from __future__ import annotations

import time
from typing import Any

from fleetgate_whatsapp import proto
from fleetgate_whatsapp.chats import GROUP_SERVER, jid_of, jid_text

# fleetgate's pinMessageData.action, and WhatsApp's pin types.
_PIN_TYPES = {"pin": "PIN_FOR_ALL", "unpin": "UNPIN_FOR_ALL"}
# The durations WhatsApp's phones offer (24 hours, 7 days, 30 days), in seconds.
PIN_DURATIONS_S = (86_400, 604_800, 2_592_000)


def key(chat_id: str, id_message: str, author: str, me: str) -> Any:
    """The key of the message ``id_message`` of ``chat_id`` written by ``author`` (a chat id;
    ``me``: the account's own). ValueError for a chat or an author that names nobody."""
    if not id_message:
        raise ValueError("the message pointed at needs its id (stanzaId)")
    jid = jid_of(chat_id)
    from_me = bool(me) and author == me
    found = proto.MessageKey(fromMe=from_me, ID=id_message, remoteJID=f"{jid.User}@{jid.Server}")
    if jid.Server == GROUP_SERVER and not from_me:
        if not author:
            raise ValueError("a message of a group is named with its author (participant)")
        found.participant = jid_text(author)
    return found


def reaction(chat_id: str, data: dict[str, Any], me: str) -> Any:
    """The reaction of a GREEN-API reactionMessage: ``extendedTextMessageData.text`` (an emoji;
    "" takes the account's reaction back) on ``quotedMessage`` {stanzaId, participant}."""
    text = data.get("extendedTextMessageData")
    quoted = data.get("quotedMessage")
    if not isinstance(text, dict) or not isinstance(text.get("text"), str):
        raise ValueError("a reactionMessage needs extendedTextMessageData.text (its emoji)")
    if not isinstance(quoted, dict):
        raise ValueError("a reactionMessage needs quotedMessage, the message reacted to")
    target = key(chat_id, _text(quoted, "stanzaId"), _text(quoted, "participant"), me)
    return proto.Message(
        reactionMessage=proto.e2e.ReactionMessage(
            key=target, text=text["text"], senderTimestampMS=int(time.time() * 1000)
        )
    )


def pin(chat_id: str, data: dict[str, Any], me: str) -> Any:
    """The pin (or unpin) of fleetgate's pinMessage: ``pinMessageData`` {stanzaId, participant,
    action "pin" | "unpin", durationS (one of PIN_DURATIONS_S for a pin)}."""
    pinned = data.get("pinMessageData")
    if not isinstance(pinned, dict) or pinned.get("action") not in _PIN_TYPES:
        raise ValueError('a pinMessage needs pinMessageData with action "pin" or "unpin"')
    target = key(chat_id, _text(pinned, "stanzaId"), _text(pinned, "participant"), me)
    action = str(pinned["action"])
    message = proto.Message(
        pinInChatMessage=proto.e2e.PinInChatMessage(
            key=target,
            type=proto.e2e.PinInChatMessage.Type.Value(_PIN_TYPES[action]),
            senderTimestampMS=int(time.time() * 1000),
        )
    )
    if action == "pin":
        duration = pinned.get("durationS")
        if duration not in PIN_DURATIONS_S or isinstance(duration, bool):
            raise ValueError("pinMessageData.durationS must be 86400, 604800 or 2592000")
        message.messageContextInfo.messageAddOnDurationInSecs = duration
    return message


def _text(obj: dict[str, Any], field: str) -> str:
    value = obj.get(field, "")
    if not isinstance(value, str):
        raise ValueError(f"{field} must be a string")
    return value
