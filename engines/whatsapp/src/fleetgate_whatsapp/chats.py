"""Chat ids: fleetgate's ``<phone>@c.us`` / ``<group>@g.us`` and WhatsApp's JIDs.

WhatsApp names a person by phone (``<phone>@s.whatsapp.net``, one of their devices as
``<phone>:<device>@s.whatsapp.net``) or, more and more, by a LID (``<number>@lid``), a number
that hides the phone; events then carry the phone form beside it (``SenderAlt``,
``RecipientAlt``) when WhatsApp gave it. fleetgate's chat ids name phones and groups only, as
GREEN-API's do; a LID without its phone is kept as ``<number>@lid`` (GREEN-API shows such ids
too). Other chats (status broadcasts, newsletters) have no fleetgate id: ValueError.
"""

from __future__ import annotations

import re
from typing import Any

from fleetgate.ids import CHAT_GROUP, CHAT_PHONE
from fleetgate_whatsapp import proto

PHONE_SERVER = "s.whatsapp.net"
GROUP_SERVER = "g.us"
# "c.us" is the legacy spelling; "hosted" is a business account served by Meta's cloud.
_PHONE_SERVERS = frozenset({PHONE_SERVER, "c.us", "hosted"})
_LID_SERVERS = frozenset({"lid", "hosted.lid"})
_PHONE = re.compile(CHAT_PHONE)
_GROUP = re.compile(CHAT_GROUP)
_LID = re.compile("[0-9]{1,30}")


def chat_id_of(jid: Any, alt: Any = None) -> str:
    """The fleetgate chat id of a JID (a protobuf ``JID`` or its text form), its device part
    dropped. ``alt``: the other address WhatsApp gave beside it (a ``SenderAlt``), used when
    ``jid`` is a LID and ``alt`` its phone. ValueError for a JID of no chat fleetgate names."""
    user, server = _parts(jid)
    if server in _LID_SERVERS and alt is not None:
        alt_user, alt_server = _parts(alt)
        if alt_server in _PHONE_SERVERS and _PHONE.fullmatch(alt_user):
            return f"{alt_user}@c.us"
    if server in _PHONE_SERVERS and _PHONE.fullmatch(user):
        return f"{user}@c.us"
    if server == GROUP_SERVER and _GROUP.fullmatch(user):
        return f"{user}@g.us"
    if server in _LID_SERVERS and _LID.fullmatch(user):
        return f"{user}@lid"
    raise ValueError(f"no fleetgate chat id for the JID {user}@{server}")


def jid_of(chat_id: str) -> Any:
    """The JID (protobuf, every field set) of a fleetgate chat id; ValueError if it is none."""
    user, _, suffix = chat_id.partition("@")
    if suffix == "c.us" and _PHONE.fullmatch(user):
        return proto.jid(user, PHONE_SERVER)
    if suffix == "g.us" and _GROUP.fullmatch(user):
        return proto.jid(user, GROUP_SERVER)
    raise ValueError(f"chat id must be <phone digits>@c.us or <group id>@g.us, not {chat_id!r}")


def jid_text(chat_id: str) -> str:
    """The text form of a person's JID, as message keys and quotes carry it
    (``<phone>@s.whatsapp.net``, or ``<number>@lid`` kept as it is)."""
    user, _, suffix = chat_id.partition("@")
    if suffix == "lid" and _LID.fullmatch(user):
        return chat_id
    if suffix == "c.us" and _PHONE.fullmatch(user):
        return f"{user}@{PHONE_SERVER}"
    raise ValueError(f"a participant must be <phone digits>@c.us, not {chat_id!r}")


def source_chat_id(source: Any) -> str:
    """The chat a ``MessageSource`` is about: the group, or the other person of a private chat
    (named by phone when the chat is a LID and WhatsApp gave the phone beside it)."""
    if source.IsFromMe:
        return chat_id_of(source.Chat, source.RecipientAlt)
    if source.Chat.User == source.Sender.User and source.Chat.Server == source.Sender.Server:
        return chat_id_of(source.Chat, source.SenderAlt)
    return chat_id_of(source.Chat)


def sender_chat_id(source: Any) -> str:
    """Who sent what a ``MessageSource`` is about, by phone where WhatsApp gave it."""
    return chat_id_of(source.Sender, source.SenderAlt)


def _parts(jid: Any) -> tuple[str, str]:
    if isinstance(jid, str):
        user, at, server = jid.rpartition("@")
        if not at:
            user, server = "", jid
    else:
        user, server = jid.User, jid.Server
    # "<user>.<agent>:<device>": the person is the user part.
    return user.split(":", 1)[0].split(".", 1)[0], server
