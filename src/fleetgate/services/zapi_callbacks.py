"""Z-API callbacks: what one notification event sends to an instance's per-event callback URLs.

The runner and the services render them here, beside the GREEN-API notification of the same
event (services/outbox.py); the Z-API façade's own names for the callback URL settings live in
api/zapi/wire.py.

Events arrive as GREEN-API notifications (a typeWebhook and its body fields); this module turns
each into the Z-API callback bodies it causes and the URLs they go to. Pure functions: the outbox
stores the rows and the delivery service posts them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import FAILED_STATUSES, MessageStatus
from fleetgate.services import zapi_group_callbacks
from fleetgate.services.zapi_actions import ACTION_KINDS, action_content, contact_card

CallbackRow = tuple[str, str, dict[str, Any]]  # (callback type, target url, JSON body)

RECEIVED = "ReceivedCallback"
DELIVERY = "DeliveryCallback"
MESSAGE_STATUS = "MessageStatusCallback"
CONNECTED = "ConnectedCallback"
DISCONNECTED = "DisconnectedCallback"
PRESENCE_CHAT = "PresenceChatCallback"


# GREEN outgoingMessageStatus status -> Z-API MessageStatusCallback status.
RECEIPT_STATUS: dict[str, str] = {
    MessageStatus.SENT: "SENT",
    MessageStatus.DELIVERED: "RECEIVED",
    MessageStatus.READ: "READ",
}
NO_ACCOUNT_ERROR = "Phone number does not exist"
SEND_ERROR = "Error on send message"
DISCONNECTED_ERROR = "Device has been disconnected"
# The event of a chat presence change: only ever a callback (GREEN-API has no notification).
PRESENCE_EVENT = "presenceChat"


def zapi_callbacks(
    *,
    instance: InstanceView,
    type_webhook: str,
    fields: dict[str, Any],
    now: int,
    previous_state: str | None = None,
) -> list[CallbackRow]:
    """The Z-API callbacks one notification event causes, to the instance's callback URLs."""
    urls = instance.callbacks
    if type_webhook == "incomingMessageReceived":
        body = received_body(instance=instance, fields=fields, now=now, from_me=False)
        return _rows(RECEIVED, body, urls.get("received"), urls.get("received_delivery"))
    if type_webhook in ("outgoingMessageReceived", "outgoingAPIMessageReceived"):
        from_api = type_webhook == "outgoingAPIMessageReceived"
        body = received_body(
            instance=instance, fields=fields, now=now, from_me=True, from_api=from_api
        )
        targets = [urls.get("received_delivery")]
        if instance.options.get("notify_sent_by_me") is True:
            targets.append(urls.get("received"))
        rows = _rows(RECEIVED, body, *targets)
        if from_api:
            chat_id = str(fields.get("senderData", {}).get("chatId", ""))
            delivery = _delivery_body(instance, chat_id, str(fields.get("idMessage", "")), now)
            rows += _rows(DELIVERY, delivery, urls.get("delivery"))
        return rows
    if type_webhook == "outgoingMessageStatus":
        return _status_rows(instance, fields, now)
    if type_webhook == "stateInstanceChanged":
        return _state_rows(instance, str(fields.get("stateInstance", "")), previous_state, now)
    if type_webhook == PRESENCE_EVENT:
        phone, _ = chat_phone(str(fields.get("chatId", "")))
        presence = {
            "type": PRESENCE_CHAT,
            "phone": phone,
            "status": fields.get("status"),
            "lastSeen": fields.get("lastSeen"),
            "instanceId": str(instance.id_instance),
        }
        return _rows(PRESENCE_CHAT, presence, urls.get("presence_chat"))
    if type_webhook == zapi_group_callbacks.GROUP_EVENT:
        return zapi_group_callbacks.rows(instance=instance, fields=fields, now=now)
    return []


def zaap_id(id_instance: int, id_message: str) -> str:
    """Z-API's queue id of a sent message: derived, so it needs no storage (32 upper hex)."""
    digest = hashlib.sha256(f"{id_instance}:{id_message}".encode()).hexdigest()
    return digest[:32].upper()


def chat_phone(chat_id: str) -> tuple[str, bool]:
    """Z-API's phone for a GREEN chat id and whether it is a group ("<id>@g.us": "<id>-group")."""
    if chat_id.endswith("@g.us"):
        return chat_id.removesuffix("@g.us") + "-group", True
    return chat_id.removesuffix("@c.us"), False


def received_body(
    *,
    instance: InstanceView,
    fields: dict[str, Any],
    now: int,
    from_me: bool,
    from_api: bool = False,
) -> dict[str, Any]:
    """A ReceivedCallback body for a GREEN incoming or outgoing message notification."""
    sender_data: dict[str, Any] = fields.get("senderData") or {}
    phone, is_group = chat_phone(str(sender_data.get("chatId", "")))
    participant = None
    if is_group and not from_me:
        participant = str(sender_data.get("sender", "")).removesuffix("@c.us") or None
    body: dict[str, Any] = {
        "isStatusReply": False,
        "senderLid": None,
        "connectedPhone": instance.wid.removesuffix("@c.us"),
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": is_group,
        "isNewsletter": False,
        "instanceId": str(instance.id_instance),
        "messageId": str(fields.get("idMessage", "")),
        "phone": phone,
        "fromMe": from_me,
        "momment": now,
        "status": "SENT" if from_me else "RECEIVED",
        "chatName": sender_data.get("chatName", ""),
        "senderPhoto": None,
        "senderName": sender_data.get("senderName", ""),
        "participantPhone": participant,
        "participantLid": None,
        "photo": None,
        "broadcast": False,
        "type": RECEIVED,
        "fromApi": from_api,
    }
    return body | message_content(fields.get("messageData") or {}, body)


def message_content(data: dict[str, Any], envelope: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Z-API content keys of a GREEN messageData: one content object, maybe more keys.

    A message that quotes another adds "referenceMessageId" (the quoted stanzaId). A type with
    no Z-API counterpart here becomes an empty text plus "notification": its GREEN typeMessage,
    so a client still learns something arrived and of which kind. Reactions, votes, pins,
    edits and deletions point at another message and need the callback's ``envelope`` (its
    phone, fromMe, participantPhone, connectedPhone and momment) to say who did what.
    """
    kind = data.get("typeMessage", "")
    if kind in ACTION_KINDS:
        return action_content(kind, data, envelope or {})
    file: dict[str, Any] = data.get("fileMessageData") or {}
    content: dict[str, Any]
    if kind == "textMessage":
        text = (data.get("textMessageData") or {}).get("textMessage", "")
        content = {"text": {"message": text}}
    elif kind == "extendedTextMessage":
        ext = data.get("extendedTextMessageData") or {}
        content = {
            "text": {
                "message": ext.get("text", ""),
                "title": ext.get("title", ""),
                # Z-API spells this key so; clients read it as sent.
                "descritpion": ext.get("description", ""),
            }
        }
    elif kind == "quotedMessage":
        text = (data.get("extendedTextMessageData") or {}).get("text", "")
        content = {"text": {"message": text}}
    elif kind == "imageMessage":
        image = {
            "imageUrl": file.get("downloadUrl", ""),
            "caption": file.get("caption", ""),
            "mimeType": file.get("mimeType", ""),
            "thumbnailUrl": "",
            "downloadError": False,
            "width": 0,
            "height": 0,
            "viewOnce": False,
        }
        content = {"image": image}
    elif kind == "videoMessage":
        video = {
            "videoUrl": file.get("downloadUrl", ""),
            "caption": file.get("caption", ""),
            "mimeType": file.get("mimeType", ""),
            "seconds": 0,
            "viewOnce": False,
        }
        content = {"video": video}
    elif kind == "audioMessage":
        audio = {
            "audioUrl": file.get("downloadUrl", ""),
            "mimeType": file.get("mimeType", ""),
            "ptt": False,
            "seconds": 0,
            "viewOnce": False,
        }
        content = {"audio": audio}
    elif kind == "documentMessage":
        document = {
            "documentUrl": file.get("downloadUrl", ""),
            "fileName": file.get("fileName", ""),
            "mimeType": file.get("mimeType", ""),
            "title": file.get("fileName", ""),
            "pageCount": 0,
            "thumbnailUrl": "",
        }
        content = {"document": document}
    elif kind == "stickerMessage":
        sticker = {
            "stickerUrl": file.get("downloadUrl", ""),
            "mimeType": file.get("mimeType", "") or "image/webp",
        }
        content = {"sticker": sticker}
    elif kind == "locationMessage":
        loc = data.get("locationMessageData") or {}
        location = {
            "latitude": loc.get("latitude"),
            "longitude": loc.get("longitude"),
            "name": loc.get("nameLocation", ""),
            "address": loc.get("address", ""),
            "url": "",
            "thumbnailUrl": "",
        }
        content = {"location": location}
    elif kind == "contactMessage":
        card = data.get("contactMessageData") or {}
        content = {"contact": contact_card(card)}
    elif kind == "contactsArrayMessage":
        cards = [contact_card(c) for c in (data.get("messageData") or {}).get("contacts", [])]
        content = {"contact": cards[0] if cards else contact_card({}), "contacts": cards}
    elif kind == "pollMessage":
        poll = data.get("pollMessageData") or {}
        content = {
            "poll": {
                "question": poll.get("name", ""),
                "pollMaxOptions": 0 if poll.get("multipleAnswers") else 1,
                "options": [{"name": o.get("optionName", "")} for o in poll.get("options", [])],
            }
        }
    else:
        content = {"text": {"message": ""}, "notification": kind}
    # GREEN keeps the quoted message's id in quotedMessage (media replies too, not only text).
    quoted = data.get("quotedMessage") or {}
    if kind == "quotedMessage" or quoted:
        ext = data.get("extendedTextMessageData") or {}
        stanza = quoted.get("stanzaId") or ext.get("stanzaId")
        if stanza:
            content["referenceMessageId"] = stanza
    return content


def _status_rows(instance: InstanceView, fields: dict[str, Any], now: int) -> list[CallbackRow]:
    status = str(fields.get("status", ""))
    chat_id = str(fields.get("chatId", ""))
    id_message = str(fields.get("idMessage", ""))
    if status in RECEIPT_STATUS:
        phone, is_group = chat_phone(chat_id)
        body = {
            "status": RECEIPT_STATUS[status],
            "ids": [id_message],
            "momment": now,
            "phone": phone,
            "type": MESSAGE_STATUS,
            "instanceId": str(instance.id_instance),
            "isGroup": is_group,
        }
        return _rows(MESSAGE_STATUS, body, instance.callbacks.get("message_status"))
    # Messages that never left: Z-API reports them as a failed delivery.
    if status in FAILED_STATUSES:
        body = _delivery_body(instance, chat_id, id_message, now)
        if status == MessageStatus.NO_ACCOUNT:
            body["error"] = NO_ACCOUNT_ERROR
        else:
            body["error"] = fields.get("description") or SEND_ERROR
        return _rows(DELIVERY, body, instance.callbacks.get("delivery"))
    return []


def _state_rows(
    instance: InstanceView, state: str, previous: str | None, now: int
) -> list[CallbackRow]:
    if state == State.AUTHORIZED and previous != State.AUTHORIZED:
        body: dict[str, Any] = {
            "type": CONNECTED,
            "connected": True,
            "momment": now,
            "instanceId": str(instance.id_instance),
            "phone": instance.wid.removesuffix("@c.us"),
        }
        return _rows(CONNECTED, body, instance.callbacks.get("connected"))
    # A reboot passes through "starting" and comes back authorized: not a disconnection.
    if previous == State.AUTHORIZED and state not in (State.AUTHORIZED, State.STARTING):
        body = {
            "momment": now,
            "error": DISCONNECTED_ERROR,
            "disconnected": True,
            "type": DISCONNECTED,
            "instanceId": str(instance.id_instance),
        }
        return _rows(DISCONNECTED, body, instance.callbacks.get("disconnected"))
    return []


def _delivery_body(
    instance: InstanceView, chat_id: str, id_message: str, now: int
) -> dict[str, Any]:
    return {
        "phone": chat_phone(chat_id)[0],
        "zaapId": zaap_id(instance.id_instance, id_message),
        "messageId": id_message,
        "instanceId": str(instance.id_instance),
        "momment": now,
        "type": DELIVERY,
    }


def _rows(kind: str, body: dict[str, Any], *urls: str | None) -> list[CallbackRow]:
    """One row per distinct non-empty URL, each with its own copy of the body."""
    return [(kind, url, dict(body)) for url in _distinct(urls)]


def _distinct(urls: Iterable[str | None]) -> list[str]:
    seen: list[str] = []
    for url in urls:
        if url and url not in seen:
            seen.append(url)
    return seen
