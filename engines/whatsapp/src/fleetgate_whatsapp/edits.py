"""Messages that change a message the account sent: a deletion for everyone (a revoke) and
an edit; used inside worker processes only.

WhatsApp carries both as protocol messages naming the changed message by its key (its id, its
chat, and ``fromMe``). They are built here from neonize's protobuf classes, as neonize's own
builders would, but without asking the library who the account is (``get_me`` ends the process
on a stopped connection): a revoke or an edit through fleetgate is always of the account's own
message. The library marks them as such on the wire when it sends them (whatsmeow's edit
attribute), so the phone on the other side shows "deleted" or "edited".
"""

from __future__ import annotations

import time
from typing import Any

from fleetgate_whatsapp import proto
from fleetgate_whatsapp.chats import jid_of

FutureProofMessage: Any = proto.e2e.FutureProofMessage


def _key(chat_id: str, id_message: str) -> Any:
    jid = jid_of(chat_id)  # ValueError for a chat id of no chat
    return proto.MessageKey(fromMe=True, ID=id_message, remoteJID=f"{jid.User}@{jid.Server}")


def revoke(chat_id: str, id_message: str) -> Any:
    """The message that deletes the account's message ``id_message`` for everyone."""
    return proto.Message(
        protocolMessage=proto.ProtocolMessage(
            type=proto.ProtocolMessage.REVOKE, key=_key(chat_id, id_message)
        )
    )


def edit(chat_id: str, id_message: str, text: str) -> Any:
    """The message that replaces the text of the account's message ``id_message``."""
    return proto.Message(
        editedMessage=FutureProofMessage(
            message=proto.Message(
                protocolMessage=proto.ProtocolMessage(
                    type=proto.ProtocolMessage.MESSAGE_EDIT,
                    key=_key(chat_id, id_message),
                    editedMessage=proto.Message(conversation=text),
                    timestampMS=int(time.time() * 1000),
                )
            )
        )
    )
