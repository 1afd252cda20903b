"""Z-API callbacks: routing per event, dedupe, bodies, content conversion, URL fallback."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

from fleetgate.api.zapi.wire import callback_urls
from fleetgate.domain.config import CALLBACKS, SWITCHES
from fleetgate.domain.instances import InstanceView
from fleetgate.services.zapi_callbacks import message_content, zaap_id, zapi_callbacks

NOW = 1_700_000_000_123
ID = 1101000001
WID = "79990001122@c.us"
CHAT = "79995556677@c.us"
GROUP = "120363043968066561@g.us"
URL_A = "https://a.example/hook"
URL_B = "https://b.example/hook"
DEFAULT = "https://default.example/green"
HELLO = {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi"}}


def make_instance(
    *,
    callbacks: dict[str, str] | None = None,
    switches: dict[str, bool] | None = None,
    options: dict[str, bool | str] | None = None,
    webhook_url: str = DEFAULT,
) -> InstanceView:
    """An authorized instance with every callback URL empty unless given."""
    return InstanceView(
        id_instance=ID,
        partner_id=1,
        type_instance="whatsapp",
        state="authorized",
        wid=WID,
        webhook_url=webhook_url,
        webhook_token_cipher=None,
        delay_send_ms=500,
        switches={name: False for name in SWITCHES} | (switches or {}),
        callbacks={event: "" for event in CALLBACKS} | (callbacks or {}),
        options=options or {},
    )


def message_fields(
    *,
    chat_id: str = CHAT,
    sender: str = CHAT,
    message_data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    return {
        "idMessage": "BAE5F4886F6F2D05",
        "senderData": {
            "chatId": chat_id,
            "chatName": "Ann",
            "sender": sender,
            "senderName": "Ann S",
            "senderContactName": "Ann",
        },
        "messageData": HELLO if message_data is None else message_data,
    }


def call(instance: InstanceView, type_webhook: str, fields: dict[str, Any], **kw: Any) -> Any:
    return zapi_callbacks(
        instance=instance, type_webhook=type_webhook, fields=fields, now=NOW, **kw
    )


def targets(rows: list[tuple[str, str, dict[str, Any]]]) -> list[tuple[str, str]]:
    return [(kind, url) for kind, url, _ in rows]


# --- zaap_id ---------------------------------------------------------------------------------


def test_zaap_id_is_32_upper_hex_of_sha256() -> None:
    value = zaap_id(ID, "BAE5F4886F6F2D05")
    expected = hashlib.sha256(f"{ID}:BAE5F4886F6F2D05".encode()).hexdigest()[:32].upper()
    assert value == expected
    assert len(value) == 32
    assert all(c in "0123456789ABCDEF" for c in value)


def test_zaap_id_is_deterministic_and_distinguishes_inputs() -> None:
    assert zaap_id(ID, "X1") == zaap_id(ID, "X1")
    assert zaap_id(ID, "X1") != zaap_id(ID, "X2")
    assert zaap_id(ID, "X1") != zaap_id(ID + 1, "X1")


# --- incoming messages -----------------------------------------------------------------------


def test_incoming_goes_to_received_and_received_delivery() -> None:
    instance = make_instance(callbacks={"received": URL_A, "received_delivery": URL_B})
    rows = call(instance, "incomingMessageReceived", message_fields())
    assert targets(rows) == [("ReceivedCallback", URL_A), ("ReceivedCallback", URL_B)]
    assert rows[0][2] == rows[1][2]


def test_incoming_same_url_twice_is_sent_once() -> None:
    instance = make_instance(callbacks={"received": URL_A, "received_delivery": URL_A})
    rows = call(instance, "incomingMessageReceived", message_fields())
    assert targets(rows) == [("ReceivedCallback", URL_A)]


@pytest.mark.parametrize("event", ["received", "received_delivery"])
def test_incoming_with_one_url(event: str) -> None:
    rows = call(
        make_instance(callbacks={event: URL_A}), "incomingMessageReceived", message_fields()
    )
    assert targets(rows) == [("ReceivedCallback", URL_A)]


def test_incoming_without_urls_makes_nothing() -> None:
    # The default webhook URL is not a callback target, even with every switch on.
    instance = make_instance(switches={name: True for name in SWITCHES})
    assert call(instance, "incomingMessageReceived", message_fields()) == []


def test_incoming_body_matches_the_spec_layout() -> None:
    instance = make_instance(callbacks={"received": URL_A})
    [(_, _, body)] = call(instance, "incomingMessageReceived", message_fields())
    assert body == {
        "isStatusReply": False,
        "senderLid": None,
        "connectedPhone": "79990001122",
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": False,
        "isNewsletter": False,
        "instanceId": str(ID),
        "messageId": "BAE5F4886F6F2D05",
        "phone": "79995556677",
        "fromMe": False,
        "momment": NOW,
        "status": "RECEIVED",
        "chatName": "Ann",
        "senderPhoto": None,
        "senderName": "Ann S",
        "participantPhone": None,
        "participantLid": None,
        "photo": None,
        "broadcast": False,
        "type": "ReceivedCallback",
        "fromApi": False,
        "text": {"message": "hi"},
    }
    assert list(body)[:3] == ["isStatusReply", "senderLid", "connectedPhone"]
    assert list(body)[-3:] == ["type", "fromApi", "text"]


def test_incoming_group_message() -> None:
    instance = make_instance(callbacks={"received": URL_A})
    fields = message_fields(chat_id=GROUP, sender="79991112233@c.us")
    [(_, _, body)] = call(instance, "incomingMessageReceived", fields)
    assert body["phone"] == "120363043968066561-group"
    assert body["isGroup"] is True
    assert body["participantPhone"] == "79991112233"


# --- outgoing messages -----------------------------------------------------------------------


def test_outgoing_from_phone_goes_to_received_delivery_only() -> None:
    instance = make_instance(
        callbacks={"received": URL_A, "received_delivery": URL_B, "delivery": URL_A}
    )
    rows = call(instance, "outgoingMessageReceived", message_fields())
    assert targets(rows) == [("ReceivedCallback", URL_B)]
    body = rows[0][2]
    assert (body["fromMe"], body["status"], body["fromApi"]) == (True, "SENT", False)


def test_outgoing_also_to_received_with_notify_sent_by_me() -> None:
    instance = make_instance(
        callbacks={"received": URL_A, "received_delivery": URL_B},
        options={"notify_sent_by_me": True},
    )
    rows = call(instance, "outgoingMessageReceived", message_fields())
    assert targets(rows) == [("ReceivedCallback", URL_B), ("ReceivedCallback", URL_A)]


def test_outgoing_notify_sent_by_me_dedupes_and_needs_true() -> None:
    same = {"received": URL_A, "received_delivery": URL_A}
    on = make_instance(callbacks=same, options={"notify_sent_by_me": True})
    assert targets(call(on, "outgoingMessageReceived", message_fields())) == [
        ("ReceivedCallback", URL_A)
    ]
    off = make_instance(callbacks={"received": URL_A}, options={"notify_sent_by_me": False})
    assert call(off, "outgoingMessageReceived", message_fields()) == []


def test_outgoing_group_message_has_no_participant() -> None:
    instance = make_instance(callbacks={"received_delivery": URL_A})
    fields = message_fields(chat_id=GROUP, sender=WID)
    [(_, _, body)] = call(instance, "outgoingMessageReceived", fields)
    assert (body["phone"], body["isGroup"], body["participantPhone"]) == (
        "120363043968066561-group",
        True,
        None,
    )


def test_outgoing_api_message_received_and_delivery() -> None:
    instance = make_instance(callbacks={"received_delivery": URL_B, "delivery": URL_B})
    rows = call(instance, "outgoingAPIMessageReceived", message_fields())
    assert targets(rows) == [("ReceivedCallback", URL_B), ("DeliveryCallback", URL_B)]
    assert rows[0][2]["fromApi"] is True
    assert rows[1][2] == {
        "phone": "79995556677",
        "zaapId": zaap_id(ID, "BAE5F4886F6F2D05"),
        "messageId": "BAE5F4886F6F2D05",
        "instanceId": str(ID),
        "momment": NOW,
        "type": "DeliveryCallback",
    }


def test_outgoing_api_message_delivery_alone() -> None:
    instance = make_instance(callbacks={"delivery": URL_A})
    rows = call(instance, "outgoingAPIMessageReceived", message_fields(chat_id=GROUP))
    assert targets(rows) == [("DeliveryCallback", URL_A)]
    assert rows[0][2]["phone"] == "120363043968066561-group"


# --- message statuses ------------------------------------------------------------------------


def status_fields(status: str, **extra: Any) -> dict[str, Any]:
    return {"chatId": CHAT, "idMessage": "M1", "status": status, "sendByApi": True, **extra}


@pytest.mark.parametrize(
    ("green", "zapi"), [("sent", "SENT"), ("delivered", "RECEIVED"), ("read", "READ")]
)
def test_receipts_become_message_status(green: str, zapi: str) -> None:
    instance = make_instance(callbacks={"message_status": URL_A, "delivery": URL_B})
    rows = call(instance, "outgoingMessageStatus", status_fields(green))
    assert rows == [
        (
            "MessageStatusCallback",
            URL_A,
            {
                "status": zapi,
                "ids": ["M1"],
                "momment": NOW,
                "phone": "79995556677",
                "type": "MessageStatusCallback",
                "instanceId": str(ID),
                "isGroup": False,
            },
        )
    ]


def test_receipt_in_a_group() -> None:
    instance = make_instance(callbacks={"message_status": URL_A})
    fields = status_fields("read") | {"chatId": GROUP}
    [(_, _, body)] = call(instance, "outgoingMessageStatus", fields)
    assert (body["phone"], body["isGroup"]) == ("120363043968066561-group", True)


@pytest.mark.parametrize(
    ("status", "extra", "error"),
    [
        ("noAccount", {"description": "ignored"}, "Phone number does not exist"),
        ("failed", {}, "Error on send message"),
        ("failed", {"description": "Timeout on send message"}, "Timeout on send message"),
        ("expired", {}, "Error on send message"),
    ],
)
def test_failures_become_delivery_errors(status: str, extra: dict[str, Any], error: str) -> None:
    instance = make_instance(callbacks={"message_status": URL_A, "delivery": URL_B})
    rows = call(instance, "outgoingMessageStatus", status_fields(status, **extra))
    assert targets(rows) == [("DeliveryCallback", URL_B)]
    body = rows[0][2]
    assert body["error"] == error
    assert body["zaapId"] == zaap_id(ID, "M1")
    assert (body["messageId"], body["phone"], body["momment"]) == ("M1", "79995556677", NOW)


@pytest.mark.parametrize("status", ["pending", "played", ""])
def test_other_statuses_are_ignored(status: str) -> None:
    instance = make_instance(callbacks={"message_status": URL_A, "delivery": URL_B})
    assert call(instance, "outgoingMessageStatus", status_fields(status)) == []


def test_statuses_without_urls_make_nothing() -> None:
    instance = make_instance()
    assert call(instance, "outgoingMessageStatus", status_fields("read")) == []
    assert call(instance, "outgoingMessageStatus", status_fields("failed")) == []


# --- state changes ---------------------------------------------------------------------------

STATE_URLS = {"connected": URL_A, "disconnected": URL_B}


@pytest.mark.parametrize("previous", [None, "notAuthorized", "starting"])
def test_connected(previous: str | None) -> None:
    instance = make_instance(callbacks=STATE_URLS)
    rows = call(
        instance, "stateInstanceChanged", {"stateInstance": "authorized"}, previous_state=previous
    )
    assert rows == [
        (
            "ConnectedCallback",
            URL_A,
            {
                "type": "ConnectedCallback",
                "connected": True,
                "momment": NOW,
                "instanceId": str(ID),
                "phone": "79990001122",
            },
        )
    ]


@pytest.mark.parametrize("state", ["notAuthorized", "blocked", "yellowCard"])
def test_disconnected(state: str) -> None:
    instance = make_instance(callbacks=STATE_URLS)
    rows = call(
        instance, "stateInstanceChanged", {"stateInstance": state}, previous_state="authorized"
    )
    assert rows == [
        (
            "DisconnectedCallback",
            URL_B,
            {
                "momment": NOW,
                "error": "Device has been disconnected",
                "disconnected": True,
                "type": "DisconnectedCallback",
                "instanceId": str(ID),
            },
        )
    ]


@pytest.mark.parametrize(
    ("previous", "state"),
    [
        ("authorized", "starting"),  # a reboot: not a disconnection
        ("authorized", "authorized"),
        ("notAuthorized", "starting"),
        (None, "notAuthorized"),
        ("starting", "notAuthorized"),
    ],
)
def test_state_changes_without_callbacks(previous: str | None, state: str) -> None:
    instance = make_instance(callbacks=STATE_URLS)
    rows = call(instance, "stateInstanceChanged", {"stateInstance": state}, previous_state=previous)
    assert rows == []


def test_state_callbacks_need_their_urls() -> None:
    instance = make_instance(callbacks={"connected": "", "disconnected": ""})
    fields = {"stateInstance": "authorized"}
    assert call(instance, "stateInstanceChanged", fields, previous_state="starting") == []
    fields = {"stateInstance": "notAuthorized"}
    assert call(instance, "stateInstanceChanged", fields, previous_state="authorized") == []


# --- presence --------------------------------------------------------------------------------


@pytest.mark.parametrize("last_seen", [None, 1_700_000_000_000])
def test_presence_chat(last_seen: int | None) -> None:
    instance = make_instance(callbacks={"presence_chat": URL_A})
    fields = {"chatId": CHAT, "status": "COMPOSING", "lastSeen": last_seen}
    assert call(instance, "presenceChat", fields) == [
        (
            "PresenceChatCallback",
            URL_A,
            {
                "type": "PresenceChatCallback",
                "phone": "79995556677",
                "status": "COMPOSING",
                "lastSeen": last_seen,
                "instanceId": str(ID),
            },
        )
    ]


def test_presence_chat_without_last_seen_and_without_url() -> None:
    fields = {"chatId": CHAT, "status": "UNAVAILABLE"}
    [(_, _, body)] = call(make_instance(callbacks={"presence_chat": URL_A}), "presenceChat", fields)
    assert body["lastSeen"] is None
    assert call(make_instance(), "presenceChat", fields) == []


# --- unknown events --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "type_webhook", ["statusInstanceChanged", "deviceInfo", "incomingCall", "quotaExceeded", "x"]
)
def test_other_events_make_no_callbacks(type_webhook: str) -> None:
    instance = make_instance(callbacks={event: URL_A for event in CALLBACKS})
    assert call(instance, type_webhook, {"stateInstance": "authorized", "chatId": CHAT}) == []


# --- content conversion ----------------------------------------------------------------------

FILE = {
    "downloadUrl": "https://files.example/f",
    "caption": "look",
    "fileName": "f.pdf",
    "jpegThumbnail": "",
    "mimeType": "application/pdf",
}

CONVERSIONS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    (
        {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hello"}},
        {"text": {"message": "hello"}},
    ),
    (
        {
            "typeMessage": "extendedTextMessage",
            "extendedTextMessageData": {
                "text": "see https://x.example",
                "title": "X",
                "description": "An example",
                "previewType": "None",
                "jpegThumbnail": "",
            },
        },
        {"text": {"message": "see https://x.example", "title": "X", "descritpion": "An example"}},
    ),
    (
        {
            "typeMessage": "quotedMessage",
            "extendedTextMessageData": {"text": "yes", "stanzaId": "Q1", "participant": CHAT},
            "quotedMessage": {"stanzaId": "Q1", "participant": CHAT, "typeMessage": "textMessage"},
        },
        {"text": {"message": "yes"}, "referenceMessageId": "Q1"},
    ),
    (
        {"typeMessage": "imageMessage", "fileMessageData": FILE | {"mimeType": "image/jpeg"}},
        {
            "image": {
                "imageUrl": "https://files.example/f",
                "caption": "look",
                "mimeType": "image/jpeg",
                "thumbnailUrl": "",
                "downloadError": False,
                "width": 0,
                "height": 0,
                "viewOnce": False,
            }
        },
    ),
    (
        {"typeMessage": "videoMessage", "fileMessageData": FILE | {"mimeType": "video/mp4"}},
        {
            "video": {
                "videoUrl": "https://files.example/f",
                "caption": "look",
                "mimeType": "video/mp4",
                "seconds": 0,
                "viewOnce": False,
            }
        },
    ),
    (
        {"typeMessage": "audioMessage", "fileMessageData": FILE | {"mimeType": "audio/ogg"}},
        {
            "audio": {
                "audioUrl": "https://files.example/f",
                "mimeType": "audio/ogg",
                "ptt": False,
                "seconds": 0,
                "viewOnce": False,
            }
        },
    ),
    (
        {"typeMessage": "documentMessage", "fileMessageData": FILE},
        {
            "document": {
                "documentUrl": "https://files.example/f",
                "fileName": "f.pdf",
                "mimeType": "application/pdf",
                "title": "f.pdf",
                "pageCount": 0,
                "thumbnailUrl": "",
            }
        },
    ),
    (
        {
            "typeMessage": "locationMessage",
            "locationMessageData": {
                "nameLocation": "Home",
                "address": "Main St 1",
                "latitude": 55.75,
                "longitude": 37.61,
                "jpegThumbnail": "",
            },
        },
        {
            "location": {
                "latitude": 55.75,
                "longitude": 37.61,
                "name": "Home",
                "address": "Main St 1",
                "url": "",
                "thumbnailUrl": "",
            }
        },
    ),
    (
        {
            "typeMessage": "contactMessage",
            "contactMessageData": {"displayName": "Bob", "vcard": "BEGIN:VCARD\nEND:VCARD"},
        },
        {"contact": {"displayName": "Bob", "vCard": "BEGIN:VCARD\nEND:VCARD", "phones": []}},
    ),
    (
        {
            "typeMessage": "pollMessage",
            "pollMessageData": {
                "name": "Lunch?",
                "options": [{"optionName": "Yes"}, {"optionName": "No"}],
                "multipleAnswers": False,
            },
        },
        {
            "poll": {
                "question": "Lunch?",
                "pollMaxOptions": 1,
                "options": [{"name": "Yes"}, {"name": "No"}],
            }
        },
    ),
    (
        {
            "typeMessage": "pollMessage",
            "pollMessageData": {"name": "Which?", "options": [], "multipleAnswers": True},
        },
        {"poll": {"question": "Which?", "pollMaxOptions": 0, "options": []}},
    ),
    (
        {"typeMessage": "stickerMessage", "fileMessageData": FILE | {"mimeType": "image/webp"}},
        {"sticker": {"stickerUrl": "https://files.example/f", "mimeType": "image/webp"}},
    ),
    (
        {"typeMessage": "someNewKindMessage"},
        {"text": {"message": ""}, "notification": "someNewKindMessage"},
    ),
    ({}, {"text": {"message": ""}, "notification": ""}),
]


@pytest.mark.parametrize(("data", "content"), CONVERSIONS)
def test_message_content(data: dict[str, Any], content: dict[str, Any]) -> None:
    assert message_content(data) == content


@pytest.mark.parametrize(("data", "content"), CONVERSIONS)
def test_received_body_carries_exactly_one_content(
    data: dict[str, Any], content: dict[str, Any]
) -> None:
    instance = make_instance(callbacks={"received": URL_A})
    [(_, _, body)] = call(instance, "incomingMessageReceived", message_fields(message_data=data))
    assert {key: body[key] for key in content} == content
    objects = {"text", "image", "video", "audio", "document", "sticker", "location", "contact"}
    objects |= {"poll"}
    assert len(objects & set(body)) == 1


def test_quoted_media_keeps_its_media_and_references_the_quote() -> None:
    data = {
        "typeMessage": "imageMessage",
        "fileMessageData": FILE,
        "extendedTextMessageData": {"text": "", "stanzaId": "Q2", "participant": CHAT},
        "quotedMessage": {"stanzaId": "Q2", "participant": CHAT},
    }
    content = message_content(data)
    assert content["image"]["imageUrl"] == FILE["downloadUrl"]
    assert content["referenceMessageId"] == "Q2"


def test_sent_text_shows_as_extended_text() -> None:
    # What messaging.as_sent makes of an API text, as outgoingAPIMessageReceived carries it.
    data = {
        "typeMessage": "extendedTextMessage",
        "extendedTextMessageData": {"text": "hi", "description": "", "title": ""},
    }
    assert message_content(data) == {"text": {"message": "hi", "title": "", "descritpion": ""}}


# --- callback_urls ---------------------------------------------------------------------------

KEYS = [
    "deliveryCallbackUrl",
    "receivedCallbackUrl",
    "disconnectedCallbackUrl",
    "messageStatusCallbackUrl",
    "receivedAndDeliveryCallbackUrl",
    "presenceChatCallbackUrl",
    "connectedCallbackUrl",
    "receivedStatusCallbackUrl",
]


def test_callback_urls_all_empty_by_default() -> None:
    assert callback_urls(make_instance()) == dict.fromkeys(KEYS, "")


def test_callback_urls_own_urls_win() -> None:
    instance = make_instance(
        callbacks={
            "delivery": "https://x/d",
            "received": "https://x/r",
            "disconnected": "https://x/dc",
            "message_status": "https://x/ms",
            "received_delivery": "https://x/rd",
            "presence_chat": "https://x/p",
            "connected": "https://x/c",
        },
        switches={name: True for name in SWITCHES},
    )
    assert callback_urls(instance) == {
        "deliveryCallbackUrl": "https://x/d",
        "receivedCallbackUrl": "https://x/r",
        "disconnectedCallbackUrl": "https://x/dc",
        "messageStatusCallbackUrl": "https://x/ms",
        "receivedAndDeliveryCallbackUrl": "https://x/rd",
        "presenceChatCallbackUrl": "https://x/p",
        "connectedCallbackUrl": "https://x/c",
        "receivedStatusCallbackUrl": "",
    }


def test_callback_urls_fall_back_with_every_switch_on() -> None:
    instance = make_instance(switches={name: True for name in SWITCHES})
    urls = callback_urls(instance)
    assert list(urls) == KEYS
    assert urls == dict.fromkeys(KEYS, DEFAULT) | {
        "presenceChatCallbackUrl": "",
        "receivedStatusCallbackUrl": "",
    }


@pytest.mark.parametrize(
    ("switches", "shown"),
    [
        ({"incoming_webhook": True}, {"receivedCallbackUrl"}),
        ({"outgoing_message_webhook": True}, set()),
        (
            {"incoming_webhook": True, "outgoing_message_webhook": True},
            {"receivedCallbackUrl", "receivedAndDeliveryCallbackUrl"},
        ),
        ({"outgoing_api_message_webhook": True}, {"deliveryCallbackUrl"}),
        ({"outgoing_webhook": True}, {"messageStatusCallbackUrl"}),
        ({"state_webhook": True}, {"connectedCallbackUrl", "disconnectedCallbackUrl"}),
        ({"device_webhook": True, "status_instance_webhook": True}, set()),
    ],
)
def test_callback_urls_fallback_per_switch(switches: dict[str, bool], shown: set[str]) -> None:
    urls = callback_urls(make_instance(switches=switches))
    assert {key for key, url in urls.items() if url} == shown
    assert all(urls[key] == DEFAULT for key in shown)


def test_callback_urls_fallback_needs_a_default_url() -> None:
    instance = make_instance(switches={name: True for name in SWITCHES}, webhook_url="")
    assert callback_urls(instance) == dict.fromkeys(KEYS, "")


def test_callback_urls_mixes_own_and_fallback() -> None:
    instance = make_instance(
        callbacks={"received": URL_A}, switches={"incoming_webhook": True, "state_webhook": True}
    )
    urls = callback_urls(instance)
    assert urls["receivedCallbackUrl"] == URL_A
    assert urls["connectedCallbackUrl"] == DEFAULT
    assert urls["deliveryCallbackUrl"] == ""
