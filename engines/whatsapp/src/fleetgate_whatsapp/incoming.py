"""What WhatsApp reports, as fleetgate shows it: messages as GREEN-API ``messageData``,
receipts as message statuses, presence in the words of fleetgate's presence notifications.

The shapes follow GREEN-API's incoming-message notifications: a reply to a text is a
``quotedMessage`` (the reply's text in ``extendedTextMessageData``), any other reply keeps its own
type and carries ``quotedMessage``; the quoted message is shown flattened (``textMessage``,
``downloadUrl``, ``location``, ``contact``, ...), as GREEN-API's journals show messages.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from fleetgate.domain.messages import MessageStatus
from fleetgate_whatsapp import proto
from fleetgate_whatsapp.chats import chat_id_of, sender_chat_id, source_chat_id
from fleetgate_whatsapp.client import Received
from fleetgate_whatsapp.files import extension_of

# Presence words of fleetgate's presence notifications (the sandbox engine's PRESENCES).
AVAILABLE, UNAVAILABLE = "AVAILABLE", "UNAVAILABLE"
COMPOSING, RECORDING, PAUSED = "COMPOSING", "RECORDING", "PAUSED"

# WhatsApp's media messages: the Message field, and GREEN-API's typeMessage, of each.
MEDIA_FIELDS = {
    "imageMessage": "imageMessage",
    "videoMessage": "videoMessage",
    "ptvMessage": "videoMessage",  # a round video note
    "audioMessage": "audioMessage",
    "documentMessage": "documentMessage",
    "stickerMessage": "stickerMessage",
}
# Every version of a poll's creation carries the same PollCreationMessage.
POLL_FIELDS = (
    "pollCreationMessage",
    "pollCreationMessageV2",
    "pollCreationMessageV3",
    "pollCreationMessageV5",
    "pollCreationMessageV6",
)
TEXT_TYPES = ("textMessage", "extendedTextMessage")
_RECEIPTS = {
    proto.ReceiptEv.DELIVERED: MessageStatus.DELIVERED,
    proto.ReceiptEv.READ: MessageStatus.READ,
    # A played voice or video note was seen: GREEN-API's statuses stop at "read".
    proto.ReceiptEv.PLAYED: MessageStatus.READ,
}


def received(ev: Any, *, me: str = "") -> Received | None:
    """A ``MessageEv`` as fleetgate shows it, or None for what GREEN-API does not show
    (protocol messages other than edits and deletes, key distributions, status broadcasts,
    content of kinds fleetgate does not know). ``me``: the account's own chat id, named by a
    reaction to one of its messages in a private chat. A poll vote needs its poll: see
    :func:`poll_update`."""
    info = ev.Info
    source = info.MessageSource
    try:
        chat_id, sender = source_chat_id(source), sender_chat_id(source)
    except ValueError:
        return None
    data = _message_data(ev.Message, info.ID, info.Pushname, sender, chat_id, source, me)
    if data is None:
        return None
    return Received(
        id_message=info.ID,
        chat_id=chat_id,
        sender=sender,
        sender_name=info.Pushname,
        timestamp_s=info.Timestamp // 1000,  # MessageInfo's is in milliseconds
        from_me=source.IsFromMe,
        message_data=data,
    )


def media_part(msg: Any) -> tuple[str, Any] | None:
    """The media a message carries, as (its Message field name, the part), or None: what the
    client downloads (the file :func:`received` describes)."""
    for name in MEDIA_FIELDS:
        if msg.HasField(name):
            return name, getattr(msg, name)
    return None


def receipt_status(ev: Any) -> str | None:
    """The status a ``ReceiptEv`` moves our messages to, or None (receipts of our own devices,
    retries, errors: nothing to tell)."""
    # Go leaves Type unset for receipt kinds it does not know; unset reads as the first value.
    if not ev.HasField("Type"):
        return None
    return _RECEIPTS.get(ev.Type)


def chat_presence(ev: Any) -> tuple[str, str]:
    """A ``ChatPresenceEv`` as (chat id, COMPOSING | RECORDING | PAUSED)."""
    if ev.State == proto.ChatPresenceEv.PAUSED:
        status = PAUSED
    elif ev.Media == proto.ChatPresenceEv.AUDIO:
        status = RECORDING
    else:
        status = COMPOSING
    return source_chat_id(ev.MessageSource), status


def presence(ev: Any) -> tuple[str, str, int | None]:
    """A ``PresenceEv`` as (chat id, AVAILABLE | UNAVAILABLE, last seen in epoch ms or None)."""
    last_seen = ev.LastSeen * 1000 if ev.LastSeen > 0 else None
    return chat_id_of(ev.From), UNAVAILABLE if ev.Unavailable else AVAILABLE, last_seen


@dataclass(frozen=True, slots=True)
class Poll:
    """A poll as its votes are counted: its question and options, and the options each voter
    (chat id) chose last. WhatsApp sends each vote encrypted and alone; GREEN-API shows the
    whole tally with each one, so the tally is kept between votes by the caller."""

    name: str
    options: tuple[str, ...]
    multiple_answers: bool
    votes: dict[str, tuple[str, ...]] = field(default_factory=dict)


def poll_of(message_data: dict[str, Any]) -> Poll:
    """The Poll (no votes yet) of a ``pollMessage`` messageData, as sent or received."""
    data = message_data.get("pollMessageData")
    if message_data.get("typeMessage") != "pollMessage" or not isinstance(data, dict):
        raise ValueError("not a pollMessage messageData")
    options = tuple(str(o.get("optionName", "")) for o in data.get("options", []))
    return Poll(str(data.get("name", "")), options, bool(data.get("multipleAnswers")))


def poll_update(ev: Any, selected: Iterable[bytes], poll: Poll) -> tuple[Received, Poll]:
    """A vote counted: the ``pollUpdateMessage`` notification of the whole tally, and the poll
    with the vote in it, to keep for the next. ``selected``: the vote's option hashes (SHA-256
    of each option's name), which the client decrypts with the poll's secret."""
    if not ev.Message.HasField("pollUpdateMessage"):
        raise ValueError("not a poll vote")
    update = ev.Message.pollUpdateMessage
    chosen_hashes = set(selected)
    chosen = tuple(o for o in poll.options if _option_hash(o) in chosen_hashes)
    source = ev.Info.MessageSource
    voter = sender_chat_id(source)
    votes = {v: c for v, c in poll.votes.items() if v != voter}
    if chosen:  # no option chosen: the voter took their vote back
        votes[voter] = chosen
    counted = replace(poll, votes=votes)
    data = {
        "typeMessage": "pollUpdateMessage",
        "pollMessageData": {
            "stanzaId": update.pollCreationMessageKey.ID,
            "name": poll.name,
            "votes": [
                {"optionName": o, "optionVoters": [v for v, c in votes.items() if o in c]}
                for o in poll.options
            ],
            "multipleAnswers": poll.multiple_answers,
        },
    }
    message = Received(
        id_message=ev.Info.ID,
        chat_id=source_chat_id(source),
        sender=voter,
        sender_name=ev.Info.Pushname,
        timestamp_s=ev.Info.Timestamp // 1000,
        from_me=source.IsFromMe,
        message_data=data,
    )
    return message, counted


def _option_hash(name: str) -> bytes:
    return hashlib.sha256(name.encode()).digest()


def _message_data(
    msg: Any, id_message: str, push_name: str, sender: str, chat_id: str, source: Any, me: str
) -> dict[str, Any] | None:
    if msg.HasField("protocolMessage"):
        return _protocol(msg.protocolMessage)
    if msg.HasField("reactionMessage"):
        return _reaction(msg.reactionMessage, sender, chat_id, source.IsFromMe, me)
    found = _content(msg, id_message, push_name)
    if found is None:
        return None
    data, context = found
    if context is None or not context.stanzaID:
        return data
    quoted = _quoted(context)
    if data["typeMessage"] not in TEXT_TYPES:
        return data | {"quotedMessage": quoted}
    return {
        "typeMessage": "quotedMessage",
        "extendedTextMessageData": {
            "text": _message_text(data),
            "stanzaId": quoted["stanzaId"],
            "participant": quoted["participant"],
        },
        "quotedMessage": quoted,
    }


def _content(msg: Any, id_message: str, push_name: str = "") -> tuple[dict[str, Any], Any] | None:
    """A message's content as messageData, without any quote, and the ContextInfo it carries
    (or None); None when it has no content GREEN-API shows."""
    if msg.conversation:
        return _plain_text(msg.conversation), None
    if msg.HasField("extendedTextMessage"):
        return _extended_text(msg.extendedTextMessage)
    for name, kind in MEDIA_FIELDS.items():
        if msg.HasField(name):
            media = getattr(msg, name)
            return _file(kind, media, id_message), _context(media)
    if msg.HasField("locationMessage"):
        loc = msg.locationMessage
        location = {
            "nameLocation": loc.name,
            "address": loc.address,
            "jpegThumbnail": _b64(loc.JPEGThumbnail),
            "latitude": loc.degreesLatitude,
            "longitude": loc.degreesLongitude,
        }
        data = {"typeMessage": "locationMessage", "locationMessageData": location}
        return _forwarding(data, "locationMessageData", _context(loc)), _context(loc)
    if msg.HasField("contactMessage"):
        card = msg.contactMessage
        contact = {"displayName": card.displayName, "vcard": card.vcard}
        data = {"typeMessage": "contactMessage", "contactMessageData": contact}
        return _forwarding(data, "contactMessageData", _context(card)), _context(card)
    if msg.HasField("contactsArrayMessage"):
        cards = msg.contactsArrayMessage
        contacts = [{"displayName": c.displayName, "vcard": c.vcard} for c in cards.contacts]
        # GREEN-API names this object "messageData", inside messageData.
        data = {"typeMessage": "contactsArrayMessage", "messageData": {"contacts": contacts}}
        return _forwarding(data, "messageData", _context(cards)), _context(cards)
    for name in POLL_FIELDS:
        if msg.HasField(name):
            poll = getattr(msg, name)
            return _poll(poll), _context(poll)
    if msg.HasField("groupInviteMessage"):
        invite = msg.groupInviteMessage
        data = {
            "typeMessage": "groupInviteMessage",
            "groupInviteMessageData": {
                "groupJid": invite.groupJID,
                "inviteCode": invite.inviteCode,
                "inviteExpiration": str(invite.inviteExpiration),
                "groupName": invite.groupName,
                "caption": invite.caption,
                "name": push_name,
                "jpegThumbnail": _b64(invite.JPEGThumbnail),
            },
        }
        return data, _context(invite)
    return None


def _message_text(data: dict[str, Any]) -> str:
    """The text of a textMessage or extendedTextMessage messageData."""
    if "textMessageData" in data:
        return str(data["textMessageData"]["textMessage"])
    return str(data["extendedTextMessageData"]["text"])


def _plain_text(text: str) -> dict[str, Any]:
    return {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}


def _extended_text(ext: Any) -> tuple[dict[str, Any], Any]:
    context = _context(ext)
    forwarded = context is not None and context.isForwarded
    if not (ext.matchedText or ext.title or ext.description or ext.JPEGThumbnail or forwarded):
        # A plain text (phones send those this way too): GREEN-API shows a textMessage.
        return _plain_text(ext.text), context
    preview = proto.e2e.ExtendedTextMessage.PreviewType.Name(ext.previewType)
    data = {
        "typeMessage": "extendedTextMessage",
        "extendedTextMessageData": {
            "text": ext.text,
            "description": ext.description,
            "title": ext.title,
            "previewType": preview.capitalize(),  # "None", as GREEN-API spells it
            "jpegThumbnail": _b64(ext.JPEGThumbnail),
        },
    }
    return _forwarding(data, "extendedTextMessageData", context), context


def _file(kind: str, media: Any, id_message: str) -> dict[str, Any]:
    # Only documents have a name of their own; GREEN-API names other files after the message.
    name = media.fileName if kind == "documentMessage" else ""
    file: dict[str, Any] = {
        # fleetgate links its own copy here once the engine stored the downloaded file
        "downloadUrl": "",
        "caption": getattr(media, "caption", ""),
        "fileName": name or f"{id_message}{extension_of(media.mimetype)}",
        "jpegThumbnail": _b64(getattr(media, "JPEGThumbnail", b"")),
        "mimeType": media.mimetype,
    }
    if kind == "stickerMessage":
        file["isAnimated"] = media.isAnimated
    data = {"typeMessage": kind, "fileMessageData": file}
    return _forwarding(data, "fileMessageData", _context(media))


def _poll(poll: Any) -> dict[str, Any]:
    return {
        "typeMessage": "pollMessage",
        "pollMessageData": {
            "name": poll.name,
            "options": [{"optionName": o.optionName} for o in poll.options],
            # 0 means any number of options; 1 a single one.
            "multipleAnswers": poll.selectableOptionsCount != 1,
        },
    }


def _protocol(p: Any) -> dict[str, Any] | None:
    if p.type == proto.ProtocolMessage.REVOKE:
        return {"typeMessage": "deletedMessage", "deletedMessageData": {"stanzaId": p.key.ID}}
    if p.type != proto.ProtocolMessage.MESSAGE_EDIT:
        return None
    edited = p.editedMessage
    found = _content(edited, p.key.ID)
    data: dict[str, Any] = {"stanzaId": p.key.ID}
    if found is not None and found[0]["typeMessage"] in TEXT_TYPES:
        data["textMessage"] = _message_text(found[0])
    elif found is not None and "fileMessageData" in found[0]:
        caption = found[0]["fileMessageData"]["caption"]
        data |= {"textMessage": caption, "caption": caption}
    return {"typeMessage": "editedMessage", "editedMessageData": data}


def _reaction(r: Any, sender: str, chat_id: str, from_me: bool, me: str) -> dict[str, Any]:
    # The key is the reacted message's, as the reacting person sees it: fromMe means they
    # wrote it; in groups a message of someone else names its author.
    if r.key.participant:
        author = _chat_or_blank(r.key.participant)
    elif r.key.fromMe:
        author = sender
    else:
        author = chat_id if from_me else me
    return {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": r.text},
        "quotedMessage": {"stanzaId": r.key.ID, "participant": author},
    }


def _quoted(context: Any) -> dict[str, Any]:
    quoted: dict[str, Any] = {
        "stanzaId": context.stanzaID,
        "participant": _chat_or_blank(context.participant),
    }
    found = _content(context.quotedMessage, context.stanzaID)
    if found is None:
        return quoted | {"typeMessage": ""}
    return quoted | _flattened(found[0])


def _flattened(data: dict[str, Any]) -> dict[str, Any]:
    """A messageData flattened as GREEN-API shows a quoted message (and journals show one)."""
    out: dict[str, Any] = {"typeMessage": data["typeMessage"]}
    for key, value in data.items():
        if key == "textMessageData":
            out["textMessage"] = value["textMessage"]
        elif key == "extendedTextMessageData":
            out["textMessage"] = value["text"]
            keep = ("description", "title", "previewType", "jpegThumbnail")
            out["extendedTextMessage"] = {k: value[k] for k in keep}
        elif key == "fileMessageData":
            keep = ("downloadUrl", "caption", "jpegThumbnail", "isAnimated")
            out |= {k: value[k] for k in keep if k in value}
        elif key == "locationMessageData":
            out["location"] = _without_forwarding(value)
        elif key == "contactMessageData":
            out["contact"] = _without_forwarding(value)
        elif key == "messageData":
            out["contacts"] = value["contacts"]
        elif key != "typeMessage":
            out[key] = value
    return out


def _forwarding(data: dict[str, Any], key: str, context: Any) -> dict[str, Any]:
    data[key] |= {
        "forwardingScore": context.forwardingScore if context is not None else 0,
        "isForwarded": bool(context is not None and context.isForwarded),
    }
    return data


def _without_forwarding(value: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in value.items() if k not in ("forwardingScore", "isForwarded")}


def _context(part: Any) -> Any:
    return part.contextInfo if part.HasField("contextInfo") else None


def _chat_or_blank(jid: str) -> str:
    try:
        return chat_id_of(jid)
    except ValueError:
        return ""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode() if data else ""
