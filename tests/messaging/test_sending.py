"""GREEN-API sending and the send queue, end to end through the sandbox network, on both databases.

Every virtual phone number is random: the network is shared by every test of the session.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.services import messaging
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import messages as messages_repo
from tests.sending import (
    CHAT_ID_ERROR,
    CYRILLIC_COUNT,
    ID_MESSAGE,
    WAIT_S,
    Json,
    eventually,
    inbox,
    new_phone,
    notifications_until,
    phone_sends,
    post,
    queue_count,
    send,
    show_queue,
    statuses_of,
    wait_inbox,
    wait_outgoing,
)
from tests.support import (
    Instance,
    LiveServer,
    MakeInstance,
    authorize,
    until,
    until_a_writer_waits,
    wait_for_state,
)

# --- every send method: queued at once, sent once authorized ------------------------------


async def test_every_send_method_queues_at_once_and_reaches_the_phone_once_authorized(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(delaySendMessagesMilliseconds=500)
    own, to = new_phone(), new_phone()
    chat = f"{to}@c.us"
    await wait_for_state(client, inst, "notAuthorized")
    cat = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 64
    uploaded = await client.post(
        inst.url("uploadFile"), content=cat, headers={"Content-Type": "image/jpeg"}
    )
    url_file = uploaded.json()["urlFile"]

    ids = [
        await send(client, inst, "sendMessage", {"chatId": chat, "message": "hello, phone"}),
        await send(
            client,
            inst,
            "sendFileByUrl",
            {"chatId": chat, "urlFile": url_file, "fileName": "cat.JPG", "caption": "a cat"},
        ),
        await send(
            client,
            inst,
            "sendLocation",
            {
                "chatId": chat,
                "latitude": 55.7522,
                "longitude": -37,
                "nameLocation": "Red Square",
                "address": "Moscow",
            },
        ),
        await send(
            client,
            inst,
            "sendContact",
            {
                "chatId": chat,
                "contact": {"phoneContact": 79001112233, "firstName": "Ann", "lastName": "Lee"},
            },
        ),
        await send(
            client,
            inst,
            "sendPoll",
            {
                "chatId": chat,
                "message": "Tea or coffee?",
                "options": [{"optionName": "tea"}, {"optionName": "coffee"}],
                "multipleAnswers": True,
            },
        ),
    ]
    assert len(set(ids)) == 5
    # Nothing can go out yet: all five wait in the queue, in order.
    assert await queue_count(client, inst) == 5
    assert [m["messageID"] for m in await show_queue(client, inst)] == ids
    assert (await client.get(inst.url("getStateInstance"))).json() == {
        "stateInstance": "notAuthorized"
    }
    assert await inbox(client, to, inst.partner_token) == []

    await authorize(client, inst, own)
    authorized_at = asyncio.get_running_loop().time()
    got = await wait_inbox(client, to, inst.partner_token, 5)
    # Four pauses of delaySendMessagesMilliseconds (500 ms) separate the five sends.
    assert asyncio.get_running_loop().time() - authorized_at >= 1.5
    assert [m["idMessage"] for m in got] == ids
    assert {m["chatId"] for m in got} == {f"{own}@c.us"}
    text, file, location, contact, poll = got

    assert text["typeMessage"] == "textMessage"
    assert text["text"] == "hello, phone"
    assert text["messageData"] == {
        "typeMessage": "textMessage",
        "textMessageData": {"textMessage": "hello, phone"},
    }
    assert file["typeMessage"] == "imageMessage"
    assert file["text"] == "a cat"
    file_data = file["messageData"]["fileMessageData"]
    assert (await client.get(file_data.pop("downloadUrl"))).content == cat
    assert file_data == {
        "caption": "a cat",
        "fileName": "cat.JPG",
        "jpegThumbnail": "",
        "mimeType": "image/jpeg",
    }
    assert location["typeMessage"] == "locationMessage"
    assert location["messageData"]["locationMessageData"] == {
        "nameLocation": "Red Square",
        "address": "Moscow",
        "latitude": 55.7522,
        "longitude": -37.0,
        "jpegThumbnail": "",
    }
    assert contact["typeMessage"] == "contactMessage"
    card = contact["messageData"]["contactMessageData"]
    assert card["displayName"] == "Ann Lee"
    assert "waid=79001112233:+79001112233" in card["vcard"]
    assert card["vcard"].startswith("BEGIN:VCARD") and card["vcard"].endswith("END:VCARD")
    assert poll["typeMessage"] == "pollMessage"
    assert poll["messageData"]["pollMessageData"] == {
        "name": "Tea or coffee?",
        "options": [{"optionName": "tea"}, {"optionName": "coffee"}],
        "multipleAnswers": True,
    }

    # The phone has the last message a moment before the runner takes it off the queue (it
    # records a send once the engine answered: at least once, never lost).
    await until(lambda: _queue_empty(client, inst), "the queue drained")
    assert await show_queue(client, inst) == []
    # The outgoing journal has all five, newest first, delivered (a virtual phone is online).
    journal = await wait_outgoing(client, inst, 5)
    assert [j["idMessage"] for j in journal] == ids[::-1]


@pytest.mark.parametrize("file_name", ["clip.mp4", "voice.ogg", "report.pdf", "README"])
async def test_send_file_by_url_shows_in_the_queue_as_its_request(
    client: httpx.AsyncClient, make_instance: MakeInstance, file_name: str
) -> None:
    inst = await make_instance()
    await send(
        client,
        inst,
        "sendFileByUrl",
        {"chatId": f"{new_phone()}@c.us", "urlFile": "http://files.test/x", "fileName": file_name},
    )
    (queued,) = await show_queue(client, inst)
    assert queued["type"] == "sendFileByUrl"  # whatever the file's type (spec §12)
    assert queued["body"]["fileName"] == file_name
    assert queued["body"]["urlFile"] == "http://files.test/x"
    assert "caption" not in queued["body"]  # the request gave none


async def test_send_message_accepts_optional_fields_groups_and_the_longest_message(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    chat = f"{new_phone()}@c.us"
    longest = "я" * 20_000  # 20,000 characters (40,000 bytes)
    quoted = await send(client, inst, "sendMessage", {"chatId": chat, "message": longest})
    await send(
        client,
        inst,
        "sendMessage",
        {
            "chatId": chat,
            "message": "with options",
            "quotedMessageId": quoted,
            "linkPreview": False,
            "archiveChat": True,
            "typingTime": 5000,
            "typePreview": "small",
            "customPreview": {"title": "t"},
        },
    )
    await send(
        client, inst, "sendMessage", {"chatId": "79001234567-1581234048@g.us", "message": "g"}
    )
    await send(client, inst, "sendMessage", {"chatId": "120363025955555555@g.us", "message": "g"})
    assert await queue_count(client, inst) == 4
    first, second, *_ = await show_queue(client, inst)
    assert first["body"]["message"] == longest
    assert second["body"] | {"customPreview": None} == {
        "chatId": chat,
        "message": "with options",
        "quotedMessageId": quoted,
        "linkPreview": False,
        "archive": True,  # the queue's name for archiveChat
        "typingTime": 5000,
        "typePreview": "small",
        "customPreview": None,
    }


async def test_a_message_to_a_group_we_are_not_in_gets_the_not_in_group_status(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(outgoingWebhook="yes", outgoingAPIMessageWebhook="yes")
    await authorize(client, inst, new_phone())
    group = "120363025955555555@g.us"
    id_message = await send(client, inst, "sendMessage", {"chatId": group, "message": "hi all"})

    bodies = await notifications_until(
        client, inst, lambda b: "notInGroup" in statuses_of(b, id_message)
    )
    (failed,) = [b for b in bodies if b.get("status") == "notInGroup"]
    assert failed["chatId"] == group
    assert failed["sendByApi"] is True
    assert failed["description"] == "not a member of the group"
    # Nothing was "sent", so no outgoingAPIMessageReceived either.
    assert [b["typeWebhook"] for b in bodies] == ["outgoingMessageStatus"]
    assert statuses_of(bodies, id_message) == ["notInGroup"]
    assert await queue_count(client, inst) == 0


# --- forwardMessages ------------------------------------------------------------------------


async def test_forward_messages_copies_messages_of_one_chat_to_another(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, source, target = new_phone(), new_phone(), new_phone()
    await authorize(client, inst, own)
    first = await send(client, inst, "sendMessage", {"chatId": f"{source}@c.us", "message": "one"})
    where = await send(
        client,
        inst,
        "sendLocation",
        {"chatId": f"{source}@c.us", "latitude": 1.5, "longitude": 2.5},
    )
    await wait_inbox(client, source, inst.partner_token, 2)
    # An incoming message of the source chat can be forwarded too. (Sent only now: a phone
    # registered by two transactions at once is a known race, see test_sandbox_phones.py.)
    incoming = await phone_sends(client, inst.partner_token, source, own, "from the phone")

    async def received() -> list[Json]:
        r = await client.get(inst.url("lastIncomingMessages"))
        items: list[Json] = r.json()
        return items

    await eventually(received, "the phone's message reached the instance")

    data = await post(
        client,
        inst,
        "forwardMessages",
        {
            "chatId": f"{target}@c.us",
            "chatIdFrom": f"{source}@c.us",
            "messages": [where, first, incoming],
        },
    )
    assert list(data) == ["messages"]
    ids = data["messages"]
    assert len(ids) == 3 and all(ID_MESSAGE.match(i) for i in ids)
    assert not {first, where, incoming} & set(ids)

    got = await wait_inbox(client, target, inst.partner_token, 3)
    assert [m["idMessage"] for m in got] == ids
    assert [m["typeMessage"] for m in got] == ["locationMessage", "textMessage", "textMessage"]
    assert [m["text"] for m in got] == ["", "one", "from the phone"]
    assert all(m["messageData"]["isForwarded"] is True for m in got)
    assert got[0]["messageData"]["locationMessageData"]["latitude"] == 1.5


async def test_forward_messages_refuses_ids_not_of_chat_id_from_and_queues_nothing(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    source, other, target = (f"{new_phone()}@c.us" for _ in range(3))
    mine = await send(client, inst, "sendMessage", {"chatId": source, "message": "x"})
    elsewhere = await send(client, inst, "sendMessage", {"chatId": other, "message": "y"})
    someone_elses = await send(
        client, await make_instance(), "sendMessage", {"chatId": source, "message": "z"}
    )
    error = {"code": 400, "description": "messages must be ids of messages of chatIdFrom"}
    for messages in (["0" * 20], [mine, "FFFFFFFFFFFFFFFFFFFF"], [elsewhere], [someone_elses]):
        r = await client.post(
            inst.url("forwardMessages"),
            json={"chatId": target, "chatIdFrom": source, "messages": messages},
        )
        assert (r.status_code, r.json()) == (400, error), messages
    assert await queue_count(client, inst) == 2


async def test_a_forwarded_text_shows_as_forwarded_in_the_outgoing_journal(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    source, target = new_phone(), new_phone()
    await authorize(client, inst, new_phone())
    first = await send(client, inst, "sendMessage", {"chatId": f"{source}@c.us", "message": "fw"})
    await wait_inbox(client, source, inst.partner_token, 1)
    data = await post(
        client,
        inst,
        "forwardMessages",
        {"chatId": f"{target}@c.us", "chatIdFrom": f"{source}@c.us", "messages": [first]},
    )
    (copy,) = data["messages"]
    (got,) = await wait_inbox(client, target, inst.partner_token, 1)
    assert got["idMessage"] == copy and got["messageData"]["isForwarded"] is True
    await wait_outgoing(client, inst, 2)
    r = await client.post(
        inst.url("getMessage"), json={"chatId": f"{target}@c.us", "idMessage": copy}
    )
    assert r.status_code == 200, r.text
    assert r.json()["extendedTextMessage"]["isForwarded"] is True


# --- validation: 400 with a clear text, nothing queued --------------------------------------

CHAT = "79001234567@c.us"
# 79001234567 in full-width digits: digits, but not ASCII ones.
FULLWIDTH_PHONE = "79001234567".translate({ord(d): ord(d) + 0xFEE0 for d in "0123456789"})
BAD_BODIES: list[tuple[str, str, object, str]] = [
    # (id, method, JSON body, expected description)
    ("missing-chatId", "sendMessage", {"message": "hi"}, "field chatId is required"),
    ("chatId-no-suffix", "sendMessage", {"chatId": "79001234567", "message": "hi"}, CHAT_ID_ERROR),
    ("chatId-letters", "sendMessage", {"chatId": "abc@c.us", "message": "hi"}, CHAT_ID_ERROR),
    ("chatId-plus", "sendMessage", {"chatId": "+79001234567@c.us", "message": "hi"}, CHAT_ID_ERROR),
    (
        "chatId-fullwidth",
        "sendMessage",
        {"chatId": FULLWIDTH_PHONE + "@c.us", "message": "hi"},
        CHAT_ID_ERROR,
    ),
    (
        "chatId-newline",
        "sendMessage",
        {"chatId": "79001234567@c.us\n", "message": "hi"},
        CHAT_ID_ERROR,
    ),
    (
        "chatId-wa-domain",
        "sendMessage",
        {"chatId": "79001234567@s.whatsapp.net", "message": "hi"},
        CHAT_ID_ERROR,
    ),
    ("chatId-bad-group", "sendMessage", {"chatId": "abc-def@g.us", "message": "hi"}, CHAT_ID_ERROR),
    ("chatId-empty", "sendMessage", {"chatId": "", "message": "hi"}, CHAT_ID_ERROR),
    (
        "chatId-number",
        "sendMessage",
        {"chatId": 79001234567, "message": "hi"},
        "chatId must be a string",
    ),
    ("missing-message", "sendMessage", {"chatId": CHAT}, "field message is required"),
    ("empty-message", "sendMessage", {"chatId": CHAT, "message": ""}, "message must not be empty"),
    (
        "message-too-long",
        "sendMessage",
        {"chatId": CHAT, "message": "x" * 20_001},
        "message must be at most 20000 characters",
    ),
    ("message-number", "sendMessage", {"chatId": CHAT, "message": 42}, "message must be a string"),
    (
        "linkPreview-yes",
        "sendMessage",
        {"chatId": CHAT, "message": "hi", "linkPreview": "yes"},
        "linkPreview must be true or false",
    ),
    (
        "unknown-field",
        "sendMessage",
        {"chatId": CHAT, "message": "hi", "colour": "red"},
        "unknown field colour",
    ),
    (
        "file-ftp-url",
        "sendFileByUrl",
        {"chatId": CHAT, "urlFile": "ftp://files.test/a.png", "fileName": "a.png"},
        "urlFile is not valid",
    ),
    (
        "file-local-url",
        "sendFileByUrl",
        {"chatId": CHAT, "urlFile": "file:///etc/passwd", "fileName": "passwd"},
        "urlFile is not valid",
    ),
    (
        "file-no-fileName",
        "sendFileByUrl",
        {"chatId": CHAT, "urlFile": "https://files.test/a.png"},
        "field fileName is required",
    ),
    (
        "latitude-91",
        "sendLocation",
        {"chatId": CHAT, "latitude": 91, "longitude": 0},
        "latitude: Input should be less than or equal to 90",
    ),
    (
        "longitude--181",
        "sendLocation",
        {"chatId": CHAT, "latitude": 0, "longitude": -181},
        "longitude: Input should be greater than or equal to -180",
    ),
    (
        "latitude-text",
        "sendLocation",
        {"chatId": CHAT, "latitude": "north", "longitude": 0},
        "latitude must be a number",
    ),
    ("contact-missing", "sendContact", {"chatId": CHAT}, "field contact is required"),
    (
        "contact-no-phone",
        "sendContact",
        {"chatId": CHAT, "contact": {"firstName": "Ann"}},
        "field contact.phoneContact is required",
    ),
    (
        "contact-phone-text",
        "sendContact",
        {"chatId": CHAT, "contact": {"phoneContact": "79001112233"}},
        "contact.phoneContact must be an integer",
    ),
    (
        "poll-1-option",
        "sendPoll",
        {"chatId": CHAT, "message": "?", "options": [{"optionName": "a"}]},
        "options must have at least 2 items",
    ),
    (
        "poll-13-options",
        "sendPoll",
        {"chatId": CHAT, "message": "?", "options": [{"optionName": f"o{i}"} for i in range(13)]},
        "options must have at most 12 items",
    ),
    (
        "poll-duplicates",
        "sendPoll",
        {"chatId": CHAT, "message": "?", "options": [{"optionName": "a"}, {"optionName": "a"}]},
        "poll options must be different from each other",
    ),
    (
        "forward-no-chatIdFrom",
        "forwardMessages",
        {"chatId": CHAT, "messages": ["0" * 20]},
        "field chatIdFrom is required",
    ),
    (
        "forward-bad-chatIdFrom",
        "forwardMessages",
        {"chatId": CHAT, "chatIdFrom": "nobody", "messages": ["0" * 20]},
        "chatIdFrom must be <phone digits>@c.us or <group id>@g.us",
    ),
    (
        "forward-no-messages",
        "forwardMessages",
        {"chatId": CHAT, "chatIdFrom": CHAT, "messages": []},
        "messages must have at least 1 items",
    ),
    ("array-body", "sendMessage", [CHAT, "hi"], "request body must be a JSON object"),
]


@pytest.mark.parametrize(
    ("method", "body", "description"),
    [pytest.param(m, b, d, id=i) for i, m, b, d in BAD_BODIES],
)
async def test_a_bad_send_body_is_400_with_a_clear_text_and_queues_nothing(
    client: httpx.AsyncClient,
    make_instance: MakeInstance,
    method: str,
    body: object,
    description: str,
) -> None:
    inst = await make_instance()
    r = await client.post(inst.url(method), json=body)
    assert r.status_code == 400, r.text
    assert r.json() == {"code": 400, "description": description}
    assert await queue_count(client, inst) == 0


@pytest.mark.parametrize(
    ("raw", "description"),
    [
        (b"{not json", "request body is not valid JSON"),
        (b"chatId=79001234567@c.us&message=hi", "request body is not valid JSON"),
        (b"", "field chatId is required"),
    ],
    ids=["broken-json", "form-encoded", "empty"],
)
async def test_a_body_that_is_no_json_object_is_400_and_queues_nothing(
    client: httpx.AsyncClient, make_instance: MakeInstance, raw: bytes, description: str
) -> None:
    inst = await make_instance()
    for method in ("sendMessage", "sendPoll", "forwardMessages"):
        r = await client.post(
            inst.url(method), content=raw, headers={"Content-Type": "application/json"}
        )
        assert (r.status_code, r.json()) == (400, {"code": 400, "description": description})
    assert await queue_count(client, inst) == 0


@pytest.mark.parametrize("latitude", [True, "45.5"], ids=["bool", "string"])
async def test_send_location_refuses_a_latitude_that_is_no_number(
    client: httpx.AsyncClient, make_instance: MakeInstance, latitude: object
) -> None:
    inst = await make_instance()
    r = await client.post(
        inst.url("sendLocation"), json={"chatId": CHAT, "latitude": latitude, "longitude": 0}
    )
    assert (r.status_code, r.json()) == (
        400,
        {"code": 400, "description": "latitude must be a number"},
    )
    assert await queue_count(client, inst) == 0


# --- the queue methods ----------------------------------------------------------------------


async def test_queue_methods_show_count_and_clear_what_waits_while_not_authorized(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, first, second = new_phone(), new_phone(), new_phone()
    await wait_for_state(client, inst, "notAuthorized")
    assert await queue_count(client, inst) == 0
    assert await show_queue(client, inst) == []

    ids = [
        await send(client, inst, "sendMessage", {"chatId": f"{first}@c.us", "message": "m1"}),
        await send(client, inst, "sendMessage", {"chatId": f"{second}@c.us", "message": "m2"}),
        await send(
            client,
            inst,
            "sendLocation",
            {"chatId": f"{first}@c.us", "latitude": 0, "longitude": 0},
        ),
    ]
    r = await client.get(inst.url("getMessagesCount"))
    assert r.json() == {"count": 3, CYRILLIC_COUNT: 3}
    shown = await show_queue(client, inst)
    assert [s["messageID"] for s in shown] == ids  # oldest first
    assert all("messagesIDs" not in s for s in shown)  # only a forward has them
    assert [s["body"]["chatId"] for s in shown] == [
        f"{first}@c.us",
        f"{second}@c.us",
        f"{first}@c.us",
    ]
    assert [s["type"] for s in shown] == ["sendMessage", "sendMessage", "sendLocation"]
    assert shown[0]["body"] == {
        "chatId": f"{first}@c.us",
        "message": "m1",
        "linkPreview": True,
        "archive": False,
    }
    # Queued messages are in no journal yet.
    assert (await client.get(inst.url("lastOutgoingMessages"))).json() == []

    r = await client.get(inst.url("clearMessagesQueue"))
    assert r.status_code == 200 and r.json() == {"isCleared": True}
    assert await queue_count(client, inst) == 0
    assert await show_queue(client, inst) == []
    r = await client.get(inst.url("clearMessagesQueue"))  # clearing an empty queue is fine too
    assert r.json() == {"isCleared": True}

    # Once authorized only what was queued after the clear goes out (the queue is FIFO, so a
    # cleared message would have arrived first).
    after = await send(client, inst, "sendMessage", {"chatId": f"{first}@c.us", "message": "m4"})
    await authorize(client, inst, own)
    got = await wait_inbox(client, first, inst.partner_token, 1)
    assert [m["idMessage"] for m in got] == [after]
    assert await inbox(client, second, inst.partner_token) == []
    journal = await wait_outgoing(client, inst, 1)
    assert [j["idMessage"] for j in journal] == [after]


async def test_the_queue_is_per_instance(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    a = await make_instance()
    b = await make_instance(partner_token=a.partner_token)
    await send(client, a, "sendMessage", {"chatId": CHAT, "message": "a"})
    await send(client, a, "sendMessage", {"chatId": CHAT, "message": "a"})
    assert (await queue_count(client, a), await queue_count(client, b)) == (2, 0)
    assert (await client.get(b.url("clearMessagesQueue"))).json() == {"isCleared": True}
    assert await queue_count(client, a) == 2
    assert await show_queue(client, b) == []


# --- two instances talking through the sandbox network --------------------------------------


async def test_a_message_between_two_instances_and_its_statuses_up_to_read(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    a = await make_instance(
        delaySendMessagesMilliseconds=500, outgoingWebhook="yes", outgoingAPIMessageWebhook="yes"
    )
    b = await make_instance(incomingWebhook="yes")
    pa, pb = new_phone(), new_phone()
    await asyncio.gather(authorize(client, a, pa), authorize(client, b, pb))

    id_message = await send(client, a, "sendMessage", {"chatId": f"{pb}@c.us", "message": "hi B"})

    def a_done(bodies: list[Json]) -> bool:
        return statuses_of(bodies, id_message)[-2:] == ["sent", "delivered"]

    def b_done(bodies: list[Json]) -> bool:
        return any(x["typeWebhook"] == "incomingMessageReceived" for x in bodies)

    a_bodies, b_bodies = await asyncio.gather(
        notifications_until(client, a, a_done), notifications_until(client, b, b_done)
    )

    (incoming,) = b_bodies
    assert incoming == {
        "typeWebhook": "incomingMessageReceived",
        "instanceData": {"idInstance": b.id, "wid": f"{pb}@c.us", "typeInstance": "whatsapp"},
        "timestamp": incoming["timestamp"],
        "idMessage": id_message,
        "senderData": {
            "chatId": f"{pa}@c.us",
            "chatName": pa,
            "sender": f"{pa}@c.us",
            "senderName": pa,
            "senderContactName": pa,
        },
        "messageData": {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi B"}},
    }
    assert type(incoming["timestamp"]) is int

    assert [x["typeWebhook"] for x in a_bodies] == [
        "outgoingAPIMessageReceived",
        "outgoingMessageStatus",
        "outgoingMessageStatus",
    ]
    api_message, sent, delivered = a_bodies
    a_data = {"idInstance": a.id, "wid": f"{pa}@c.us", "typeInstance": "whatsapp"}
    assert api_message["instanceData"] == a_data
    assert api_message["idMessage"] == id_message
    assert api_message["senderData"]["chatId"] == f"{pb}@c.us"
    assert api_message["senderData"]["sender"] == f"{pa}@c.us"
    assert api_message["messageData"]["typeMessage"] == "extendedTextMessage"
    assert api_message["messageData"]["extendedTextMessageData"]["text"] == "hi B"
    for body, status in ((sent, "sent"), (delivered, "delivered")):
        assert body == {
            "typeWebhook": "outgoingMessageStatus",
            "instanceData": a_data,
            "timestamp": body["timestamp"],
            "chatId": f"{pb}@c.us",
            "idMessage": id_message,
            "status": status,
            "sendByApi": True,
        }

    # B reads the chat: A's message becomes "read".
    assert await post(client, b, "readChat", {"chatId": f"{pa}@c.us"}) == {"setRead": True}
    read = await notifications_until(client, a, lambda x: bool(statuses_of(x, id_message)))
    assert statuses_of(read, id_message) == ["read"]
    assert read[0]["chatId"] == f"{pb}@c.us" and read[0]["sendByApi"] is True
    journal = (await client.get(a.url("lastOutgoingMessages"))).json()
    assert journal[0]["idMessage"] == id_message and journal[0]["statusMessage"] == "read"
    # Reading again changes nothing but still answers setRead.
    assert await post(client, b, "readChat", {"chatId": f"{pa}@c.us"}) == {"setRead": True}


# --- a receipt racing the runner's record of the send ---------------------------------------


async def test_a_delivery_receipt_committed_while_the_send_is_recorded_is_not_lost(
    server: LiveServer,
    ctx: Context,
    client: httpx.AsyncClient,
    make_instance: MakeInstance,
) -> None:
    """The virtual phone acknowledges delivery in the very transaction that hands it the
    message, so the session's record_receipt and the runner's record_sent run at the same
    time. Replayed here deterministically: the receipt's transaction is open (status written,
    not committed) when record_sent starts, and commits while record_sent waits on the row."""
    # Never authorized: the runner leaves the queued message alone; this test plays both sides.
    inst = await make_instance(outgoingWebhook="yes", outgoingAPIMessageWebhook="yes")
    await wait_for_state(client, inst, "notAuthorized")
    chat = f"{new_phone()}@c.us"
    id_message = await send(client, inst, "sendMessage", {"chatId": chat, "message": "race"})
    async with ctx.db.reading() as session:
        found = await instances_repo.view(session, inst.id, now=now_ms())
        message = await messages_repo.by_id(session, inst.id, id_message)
    assert found is not None and message is not None
    view = found[0]

    async def record_sent() -> None:
        async with ctx.db.transaction() as session:
            await messaging.record_sent(
                session=session, signals=ctx.signals, instance=view, message=message
            )

    async with ctx.db.transaction() as session:
        await messaging.record_receipt(
            session=session,
            signals=ctx.signals,
            instance=view,
            id_message=id_message,
            status="delivered",
        )
        sending = asyncio.create_task(record_sent())
        # The race is only replayed once record_sent waits for this transaction.
        await until_a_writer_waits(ctx.db)
    await asyncio.wait_for(sending, WAIT_S)

    # Everything is committed now: nothing to wait for.
    got = await post(client, inst, "getMessage", {"chatId": chat, "idMessage": id_message})
    assert got["statusMessage"] == "delivered"
    count = (await client.get(inst.url("getWebhooksCount"))).json()["count"]
    assert count == 3
    bodies = await notifications_until(client, inst, lambda b: len(b) >= 3)
    assert [b["typeWebhook"] for b in bodies] == [
        "outgoingAPIMessageReceived",
        "outgoingMessageStatus",
        "outgoingMessageStatus",
    ]
    assert statuses_of(bodies, id_message) == ["sent", "delivered"]


async def _queue_empty(client: httpx.AsyncClient, inst: Instance) -> bool:
    return await queue_count(client, inst) == 0
