"""What to send for a GREEN-API ``messageData``: a ready ``waE2E.Message``, or a file that the
client uploads first (its bytes come with the call, from fleetgate's media store).

It takes what fleetgate's send queue hands an engine (``api/greenapi/sending_wire.py`` and
``sending.py`` make it):

- sendMessage: ``textMessage``; with a quote, ``quotedMessage`` (the text in
  ``extendedTextMessageData``) and ``quotedMessage`` {stanzaId, participant, the quoted message}
  in either form, fleetgate's (its messageData) or GREEN-API's (flattened). An optional
  top-level ``linkPreview`` (GREEN-API's default: true) asks for a link preview.
- sendFileByUrl, sendFileByUpload: ``image|video|audio|document|stickerMessage`` with
  ``fileMessageData`` (its caption, name and type; its ``downloadUrl`` is not used: the file
  was stored before the send); a quote adds ``quotedMessage`` as above.
- sendLocation, sendContact, sendPoll: their ``*MessageData``.
- forwardMessages: the forwarded message's messageData, as sent or received, with
  ``isForwarded`` and ``forwardingScore`` at its top. A forward quotes nothing.
- Reactions (``reactionMessage``) and pins (fleetgate's ``pinMessage``): messages that point
  at another one (``pointers.py``), as the Z-API routes queue them.

Quoted and pointed-at ids arrive as WhatsApp's own (``services/messaging.with_remote_quotes``).
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from fleetgate_whatsapp import pointers, proto
from fleetgate_whatsapp.chats import jid_text
from fleetgate_whatsapp.files import mime_of

# GREEN-API's file types, and the kind of media WhatsApp sends each as.
MEDIA_KINDS = {
    "imageMessage": "image",
    "videoMessage": "video",
    "audioMessage": "audio",
    "documentMessage": "document",
    "stickerMessage": "sticker",
}
TEXTS = ("textMessage", "extendedTextMessage", "quotedMessage")
OTHERS = ("locationMessage", "contactMessage", "contactsArrayMessage", "pollMessage")
POINTERS = ("reactionMessage", "pinMessage")
SENDABLE = (*TEXTS, *MEDIA_KINDS, *OTHERS, *POINTERS)
_CAPTIONED = ("image", "video", "document")
_URL = re.compile(r"https?://[^\s<>\"']+")


@dataclass(frozen=True, slots=True)
class Media:
    """A file to send. The client uploads its bytes as WhatsApp media of ``kind`` (image,
    video, audio, document; a sticker as an image) and builds the message with
    :func:`media_message`. ``mime_type`` comes from the messageData or the file name's
    extension; the client may know better from the bytes. ``context``: the ContextInfo of a
    quote or a forward, or None."""

    kind: str
    mime_type: str
    caption: str
    file_name: str
    context: Any = None

    @property
    def quoted_id(self) -> str:
        """The id of the message this file replies to, or ""."""
        return str(self.context.stanzaID) if self.context is not None else ""


@dataclass(frozen=True, slots=True)
class Outgoing:
    """What to send: ``message``, ready, or ``media``, to complete. ``preview_url``: the link a
    text shows a preview of; the client may fill the message's ``extendedTextMessage`` title,
    description and JPEGThumbnail from that page before sending (or send it without)."""

    message: Any = None
    media: Media | None = None
    preview_url: str = ""


def outgoing(message_data: dict[str, Any], *, chat_id: str = "", me: str = "") -> Outgoing:
    """What to send for a messageData to ``chat_id``; ValueError, saying why, for one that cannot
    be sent. ``me``: the account's own chat id, which tells its messages from the others' when
    a reaction or a pin names the message it points at."""
    if not isinstance(message_data, dict):
        raise ValueError("messageData must be an object")
    kind = message_data.get("typeMessage")
    if kind == "reactionMessage":
        return Outgoing(message=pointers.reaction(chat_id, message_data, me))
    if kind == "pinMessage":
        return Outgoing(message=pointers.pin(chat_id, message_data, me))
    forwarded = message_data.get("isForwarded") is True
    context = _forward(message_data) if forwarded else _quote(message_data)
    if kind in TEXTS:
        return _text(message_data, context)
    if isinstance(kind, str) and kind in MEDIA_KINDS:
        return Outgoing(media=_media(message_data, kind, context))
    message = _other(message_data, kind)
    if context is not None:
        _set_context(message, context)
    return Outgoing(message=message)


def media_message(
    media: Media, upload: Any, *, mime_type: str = "", thumbnail: bytes = b"", now_s: int = 0
) -> Any:
    """The message of an uploaded file: ``upload`` is neonize's ``UploadResponse`` of its
    bytes; ``mime_type`` overrides ``media.mime_type``; ``thumbnail`` is a small JPEG (images,
    videos, documents); ``now_s`` the media key's time (default: now)."""
    message = proto.Message()
    part = getattr(message, f"{media.kind}Message")
    part.URL = upload.url
    part.directPath = upload.DirectPath
    part.mediaKey = upload.MediaKey
    part.fileEncSHA256 = upload.FileEncSHA256
    part.fileSHA256 = upload.FileSHA256
    part.fileLength = upload.FileLength
    part.mediaKeyTimestamp = now_s or int(time.time())
    part.mimetype = mime_type or media.mime_type
    if media.kind in _CAPTIONED and media.caption:
        part.caption = media.caption
    if media.kind in _CAPTIONED and thumbnail:
        part.JPEGThumbnail = thumbnail
    if media.kind == "document":
        part.fileName = part.title = media.file_name
    if media.kind == "audio":
        # An Ogg Opus file is how phones record voice notes: it plays as one.
        part.PTT = part.mimetype.startswith("audio/ogg")
    if media.context is not None:
        part.contextInfo.CopyFrom(media.context)
    return message


def _text(data: dict[str, Any], context: Any) -> Outgoing:
    if data["typeMessage"] == "textMessage":
        text = _str(_obj(data, "textMessageData"), "textMessage", "textMessageData")
        fields: dict[str, Any] = {}
    else:
        ext = _obj(data, "extendedTextMessageData")
        text = _str(ext, "text", "extendedTextMessageData")
        fields = {
            "title": _str(ext, "title", "extendedTextMessageData", optional=True),
            "description": _str(ext, "description", "extendedTextMessageData", optional=True),
            "JPEGThumbnail": _thumbnail(ext, "extendedTextMessageData"),
        }
    if not text:
        raise ValueError("a text message needs its text")
    preview = data.get("linkPreview", True)
    if not isinstance(preview, bool):
        raise ValueError("linkPreview must be true or false")
    found = _URL.search(text)
    url = found.group(0) if found else ""
    preview_url = ""
    if any(fields.values()):  # a preview made already (a forwarded one): sent as it is
        fields = _given(**fields, matchedText=url)
    elif url and preview:
        fields, preview_url = {"matchedText": url}, url
    else:
        fields = {}
    if context is None and not fields:
        return Outgoing(message=proto.Message(conversation=text))
    ext_message = proto.e2e.ExtendedTextMessage(text=text, **fields)
    if context is not None:
        ext_message.contextInfo.CopyFrom(context)
    return Outgoing(message=proto.Message(extendedTextMessage=ext_message), preview_url=preview_url)


def _media(data: dict[str, Any], kind: str, context: Any) -> Media:
    file = _obj(data, "fileMessageData")
    name = _str(file, "fileName", "fileMessageData", optional=True)
    mime = _str(file, "mimeType", "fileMessageData", optional=True) or mime_of(name)
    caption = _str(file, "caption", "fileMessageData", optional=True)
    return Media(MEDIA_KINDS[kind], mime, caption, name, context)


def _other(data: dict[str, Any], kind: Any) -> Any:
    if kind == "locationMessage":
        loc = _obj(data, "locationMessageData")
        return proto.Message(
            locationMessage=proto.e2e.LocationMessage(
                degreesLatitude=_degrees(loc, "latitude", 90),
                degreesLongitude=_degrees(loc, "longitude", 180),
                **_given(
                    name=_str(loc, "nameLocation", "locationMessageData", optional=True),
                    address=_str(loc, "address", "locationMessageData", optional=True),
                    JPEGThumbnail=_thumbnail(loc, "locationMessageData"),
                ),
            )
        )
    if kind == "contactMessage":
        return proto.Message(contactMessage=_contact(_obj(data, "contactMessageData")))
    if kind == "contactsArrayMessage":
        contacts = _obj(data, "messageData").get("contacts")
        if not isinstance(contacts, list) or not contacts:
            raise ValueError("messageData.contacts must be a list of contacts")
        cards = [_contact(c) for c in contacts]
        return proto.Message(
            contactsArrayMessage=proto.e2e.ContactsArrayMessage(
                displayName=f"{len(cards)} contacts", contacts=cards
            )
        )
    if kind == "pollMessage":
        return _poll(_obj(data, "pollMessageData"))
    raise ValueError(
        f"typeMessage {kind!r} cannot be sent: the whatsapp engine sends {', '.join(SENDABLE)}"
    )


def _contact(card: Any) -> Any:
    if not isinstance(card, dict):
        raise ValueError("a contact must be an object")
    vcard = _str(card, "vcard", "contact")
    if not vcard:
        raise ValueError("a contact needs its vcard")
    name = _str(card, "displayName", "contact", optional=True)
    return proto.e2e.ContactMessage(vcard=vcard, **_given(displayName=name))


def _poll(poll: dict[str, Any]) -> Any:
    name = _str(poll, "name", "pollMessageData")
    options = poll.get("options")
    if not isinstance(options, list):
        raise ValueError("pollMessageData.options must be a list")
    names = [_str(o, "optionName", "a poll option") if isinstance(o, dict) else "" for o in options]
    if len(names) < 2 or not all(names) or len(set(names)) != len(names):
        raise ValueError("a poll needs at least 2 options, named, each different")
    multiple = poll.get("multipleAnswers", False)
    if not name or not isinstance(multiple, bool):
        raise ValueError("a poll needs its name, and multipleAnswers true or false")
    creation = proto.e2e.PollCreationMessage(
        name=name,
        options=[proto.e2e.PollCreationMessage.Option(optionName=n) for n in names],
        selectableOptionsCount=0 if multiple else 1,  # 0: any number of options
    )
    # The votes are encrypted with this secret; whatsmeow keeps it when it sends the poll.
    secret = proto.e2e.MessageContextInfo(messageSecret=secrets.token_bytes(32))
    return proto.Message(pollCreationMessage=creation, messageContextInfo=secret)


def _quote(data: dict[str, Any]) -> Any:
    quoted = data.get("quotedMessage")
    if quoted is None:
        return None
    if not isinstance(quoted, dict):
        raise ValueError("quotedMessage must be an object")
    stanza = quoted.get("stanzaId")
    if not isinstance(stanza, str) or not stanza:
        raise ValueError("quotedMessage.stanzaId must be the id of the quoted message")
    context = proto.ContextInfo(stanzaID=stanza)
    participant = _str(quoted, "participant", "quotedMessage", optional=True)
    if participant:
        context.participant = jid_text(participant)
    # Best effort: the reply goes out even when the quoted message cannot be told again.
    try:
        message = _quoted_message(quoted)
    except ValueError:
        message = None
    if message is not None:
        context.quotedMessage.CopyFrom(message)
    return context


def _quoted_message(quoted: dict[str, Any]) -> Any:
    """The quoted message's content, for the recipient's phone to show above the reply."""
    kind = quoted.get("typeMessage")
    text = quoted.get("textMessage")
    for key, inner in (("textMessageData", "textMessage"), ("extendedTextMessageData", "text")):
        if isinstance(quoted.get(key), dict):
            text = quoted[key].get(inner)
    if kind in TEXTS:
        return proto.Message(conversation=text) if isinstance(text, str) and text else None
    if isinstance(kind, str) and kind in MEDIA_KINDS:
        file = quoted.get("fileMessageData")
        file = file if isinstance(file, dict) else quoted
        message = proto.Message()
        part = getattr(message, kind)
        part.mimetype = str(file.get("mimeType") or "")
        if file.get("caption") and "caption" in part.DESCRIPTOR.fields_by_name:
            part.caption = str(file["caption"])
        if file.get("jpegThumbnail") and "JPEGThumbnail" in part.DESCRIPTOR.fields_by_name:
            part.JPEGThumbnail = _thumbnail(file, "quotedMessage")
        return message
    nested = dict(quoted)
    # GREEN-API's flattened form names these parts as its journals do.
    for flat, key in (("location", "locationMessageData"), ("contact", "contactMessageData")):
        if flat in quoted:
            nested[key] = quoted[flat]
    if "contacts" in quoted:
        nested["messageData"] = {"contacts": quoted["contacts"]}
    message = _other(nested, kind)
    message.ClearField("messageContextInfo")  # a quoted poll needs no secret of its own
    return message


def _forward(data: dict[str, Any]) -> Any:
    score = data.get("forwardingScore", 1)
    if not isinstance(score, int) or isinstance(score, bool) or score < 1:
        raise ValueError("forwardingScore must be a positive integer")
    return proto.ContextInfo(isForwarded=True, forwardingScore=score)


def _set_context(message: Any, context: Any) -> None:
    for desc, part in message.ListFields():
        if desc.name != "messageContextInfo" and "contextInfo" in part.DESCRIPTOR.fields_by_name:
            part.contextInfo.CopyFrom(context)


def _given(**fields: Any) -> dict[str, Any]:
    """The fields that have a value: proto2 marks a field set even to "" (sent, and shown)."""
    return {k: v for k, v in fields.items() if v}


def _obj(data: dict[str, Any], key: str) -> dict[str, Any]:
    value = data.get(key)
    if not isinstance(value, dict):
        raise ValueError(f"{key} must be an object")
    return value


def _str(obj: dict[str, Any], key: str, where: str, *, optional: bool = False) -> str:
    value = obj.get(key)
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}.{key} must be a string")
    return value


def _degrees(loc: dict[str, Any], key: str, limit: int) -> float:
    value = loc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float) or abs(value) > limit:
        raise ValueError(f"locationMessageData.{key} must be a number from -{limit} to {limit}")
    return float(value)


def _thumbnail(obj: dict[str, Any], where: str) -> bytes:
    text = _str(obj, "jpegThumbnail", where, optional=True)
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError(f"{where}.jpegThumbnail must be base64") from None
