"""Real neonize events, built as the Go side sends them: every required field set, serialized
and parsed back (serializing fails if a required field is missing)."""

from __future__ import annotations

from typing import Any

from fleetgate_whatsapp import proto

ME = "79990000000:12@s.whatsapp.net"  # this device
PEER = "79001234567@s.whatsapp.net"
GROUP = "120363012345678901@g.us"
T_MS = 1_796_619_346_532  # MessageInfo timestamps are in milliseconds


def jid(text: str) -> Any:
    """A JID from its text form ``user[:device]@server``; "" for the empty JID Go sends."""
    if not text:
        return proto.JID(User="", RawAgent=0, Device=0, Integrator=0, Server="", IsEmpty=True)
    user, _, server = text.rpartition("@")
    user, _, device = user.partition(":")
    found = proto.jid(user, server)
    found.Device = int(device or 0)
    return found


def source(
    chat: str, sender: str, *, from_me: bool = False, sender_alt: str = "", recipient_alt: str = ""
) -> Any:
    return proto.MessageSource(
        Chat=jid(chat),
        Sender=jid(sender),
        IsFromMe=from_me,
        IsGroup=chat.endswith("@g.us"),
        SenderAlt=jid(sender_alt),
        RecipientAlt=jid(recipient_alt),
        BroadcastListOwner=jid(""),
    )


def message_ev(
    content: Any,
    *,
    id_message: str = "3EB0ABCDEF0123456789",
    chat: str = PEER,
    sender: str = "",
    from_me: bool = False,
    push_name: str = "Ann",
    sender_alt: str = "",
    recipient_alt: str = "",
    timestamp_ms: int = T_MS,
    is_edit: bool = False,
) -> Any:
    """A MessageEv carrying ``content`` (a waE2E Message); the sender defaults to the peer of a
    private chat, or to this device for ``from_me``."""
    sender = sender or (ME if from_me else chat)
    info = proto.MessageInfo(
        MessageSource=source(
            chat, sender, from_me=from_me, sender_alt=sender_alt, recipient_alt=recipient_alt
        ),
        ID=id_message,
        ServerID=0,
        Type="text",
        Pushname=push_name,
        Timestamp=timestamp_ms,
        Category="",
        Multicast=False,
        MediaType="",
        Edit="1" if is_edit else "",
    )
    ev = proto.MessageEv(
        Info=info,
        Message=content,
        IsEphemeral=False,
        IsViewOnce=False,
        IsViewOnceV2=False,
        IsViewOnceV2Extension=False,
        IsDocumentWithCaption=False,
        IsLottieSticker=False,
        IsEdit=is_edit,
        UnavailableRequestID="",
        RetryCount=0,
        Raw=content,
    )
    return proto.MessageEv.FromString(ev.SerializeToString())


def receipt_ev(kind: Any, ids: list[str], *, chat: str = PEER, sender: str = PEER) -> Any:
    """A ReceiptEv of type ``kind`` (None: unset, as Go leaves receipt kinds it does not know)."""
    ev = proto.ReceiptEv(MessageSource=source(chat, sender), MessageIDs=ids, Timestamp=1_796_619)
    if kind is None:
        return proto.ReceiptEv.FromString(ev.SerializePartialToString())
    ev.Type = kind
    return proto.ReceiptEv.FromString(ev.SerializeToString())


def chat_presence_ev(
    state: Any, media: Any, *, chat: str = PEER, sender: str = "", alt: str = ""
) -> Any:
    ev = proto.ChatPresenceEv(
        MessageSource=source(chat, sender or chat, sender_alt=alt), State=state, Media=media
    )
    return proto.ChatPresenceEv.FromString(ev.SerializeToString())


def presence_ev(who: str, *, unavailable: bool, last_seen_s: int) -> Any:
    ev = proto.PresenceEv(From=jid(who), Unavailable=unavailable, LastSeen=last_seen_s)
    return proto.PresenceEv.FromString(ev.SerializeToString())


def upload(**overrides: Any) -> Any:
    """An UploadResponse, as neonize's ``upload`` answers."""
    fields: dict[str, Any] = {
        "url": "https://mmg.whatsapp.net/o1/v/t62/f1.enc",
        "DirectPath": "/o1/v/t62/f1.enc",
        "Handle": "",
        "MediaKey": b"k" * 32,
        "FileEncSHA256": b"e" * 32,
        "FileSHA256": b"s" * 32,
        "FileLength": 1234,
    }
    return proto.UploadResponse(**(fields | overrides))
