"""Between neonize's protobuf objects and fleetgate's terms; used inside worker processes only.

WhatsApp's events become what :class:`fleetgate_whatsapp.client.ClientEvents` reports: chat ids
(``<phone>@c.us``, ``<group>@g.us``), GREEN-API ``messageData`` (:func:`received`), message
statuses (:func:`receipt_status`) and presence words (:func:`chat_presence`, :func:`presence`).
The other way, a queued message's ``messageData`` becomes what to send (:func:`outgoing`).

The protobuf classes are neonize's own, loaded without neonize (see ``proto.py``): this module
and its tests never load the Go library.
"""

from __future__ import annotations

from fleetgate_whatsapp.chats import chat_id_of, jid_of, sender_chat_id, source_chat_id
from fleetgate_whatsapp.incoming import (
    Poll,
    chat_presence,
    media_part,
    poll_of,
    poll_update,
    presence,
    receipt_status,
    received,
)
from fleetgate_whatsapp.outgoing import Media, Outgoing, media_message, outgoing

__all__ = [
    "Media",
    "Outgoing",
    "Poll",
    "chat_id_of",
    "chat_presence",
    "jid_of",
    "media_message",
    "media_part",
    "outgoing",
    "poll_of",
    "poll_update",
    "presence",
    "receipt_status",
    "received",
    "sender_chat_id",
    "source_chat_id",
]
