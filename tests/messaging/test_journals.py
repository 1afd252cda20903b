"""GREEN-API journals and service methods against a live server, on both databases."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from whatsapp_api_client_python.API import GreenAPI

from tests.sending import (
    CYRILLIC_COUNT,
    ID_MESSAGE,
    Json,
    eventually,
    new_phone,
    phone_sends,
    post,
    send,
    show_queue,
    wait_inbox,
    wait_outgoing,
)
from tests.support import Instance, LiveServer, MakeInstance, authorize, wait_for_state

MINUTES_ERROR = {"code": 400, "description": "minutes must be an integer from 1 to 43200"}
PHONE_ERROR = {"code": 400, "description": "bad phone number, valid 11 or 12 digits"}
NOT_AUTHORIZED = {"code": 400, "description": "instance account not authorized"}
NOT_FOUND = {"code": 404, "description": "message not found"}


async def get(client: httpx.AsyncClient, inst: Instance, method: str, **params: str | int) -> Any:
    r = await client.get(inst.url(method), params=params)
    assert r.status_code == 200, r.text
    return r.json()


async def wait_incoming(client: httpx.AsyncClient, inst: Instance, n: int) -> list[Json]:
    async def ready() -> list[Json] | None:
        items: list[Json] = await get(client, inst, "lastIncomingMessages")
        return items if len(items) >= n else None

    return await eventually(ready, f"{n} messages in the incoming journal of {inst.id}")


async def conversation(
    client: httpx.AsyncClient, inst: Instance, own: str, peer: str
) -> tuple[str, str, str]:
    """out1 (instance -> peer), then in1 (peer -> instance), then out2; each waited for."""
    out1 = await send(client, inst, "sendMessage", {"chatId": f"{peer}@c.us", "message": "out one"})
    await wait_outgoing(client, inst, 1)
    in1 = await phone_sends(client, inst.partner_token, peer, own, "in one")
    await wait_incoming(client, inst, 1)
    out2 = await send(client, inst, "sendMessage", {"chatId": f"{peer}@c.us", "message": "out two"})
    await wait_outgoing(client, inst, 2)
    return out1, in1, out2


def outgoing_item(id_message: str, chat_id: str, text: str, seen: Json) -> Json:
    """The journal item of a sent text (timestamp and status taken from what was seen).

    A virtual phone acknowledges at once, so the status is "delivered" - or "sent" when the
    receipt lost its race with the runner (see test_sending's receipt race test).
    """
    assert seen["statusMessage"] in ("sent", "delivered")
    return {
        "type": "outgoing",
        "idMessage": id_message,
        "timestamp": seen["timestamp"],
        "typeMessage": "extendedTextMessage",
        "chatId": chat_id,
        "statusMessage": seen["statusMessage"],
        "sendByApi": True,
        "textMessage": text,
        "extendedTextMessage": {
            "text": text,
            "description": "",
            "title": "",
            "previewType": "None",
            "jpegThumbnail": "",
            "forwardingScore": 0,
            "isForwarded": False,
        },
    }


def settled(items: list[Json]) -> list[Json]:
    """Journal items without statusMessage (which a receipt may still change)."""
    return [{k: v for k, v in i.items() if k != "statusMessage"} for i in items]


async def test_journals_show_both_directions_newest_first(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, peer = new_phone(), new_phone()
    chat = f"{peer}@c.us"
    await authorize(client, inst, own)
    started = int(time.time())
    out1, in1, out2 = await conversation(client, inst, own, peer)

    outgoing = await get(client, inst, "lastOutgoingMessages")
    assert [o["idMessage"] for o in outgoing] == [out2, out1]
    assert outgoing[0] == outgoing_item(out2, chat, "out two", outgoing[0])
    assert outgoing[1] == outgoing_item(out1, chat, "out one", outgoing[1])
    incoming = await get(client, inst, "lastIncomingMessages")
    assert incoming == [
        {
            "type": "incoming",
            "idMessage": in1,
            "timestamp": incoming[0]["timestamp"],
            "typeMessage": "textMessage",
            "chatId": chat,
            "senderId": chat,
            "senderName": peer,
            "senderContactName": peer,
            "textMessage": "in one",
        }
    ]
    for item in [*outgoing, *incoming]:
        assert type(item["timestamp"]) is int
        assert started - 1 <= item["timestamp"] <= int(time.time()) + 1

    # Below, the status of an outgoing message may still move from sent to delivered between
    # two reads: items of different reads are compared without it.
    # ?minutes= narrows the window (everything here is from the last minute).
    assert settled(await get(client, inst, "lastOutgoingMessages", minutes=1)) == settled(outgoing)
    assert await get(client, inst, "lastIncomingMessages", minutes=43200) == incoming
    # The official async client sends the minutes as a JSON body of the GET.
    r = await client.request("GET", inst.url("lastIncomingMessages"), json={"minutes": 5})
    assert r.status_code == 200 and r.json() == incoming

    history = await post(client, inst, "getChatHistory", {"chatId": chat})
    assert [h["idMessage"] for h in history] == [out2, in1, out1]
    assert settled(history) == settled([outgoing[0], incoming[0], outgoing[1]])
    latest = await post(client, inst, "getChatHistory", {"chatId": chat, "count": 2})
    assert settled(latest) == settled(history[:2])
    other = {"chatId": f"{new_phone()}@c.us"}
    assert await post(client, inst, "getChatHistory", other) == []

    for id_message, item in ((out1, outgoing[1]), (in1, incoming[0])):
        got = await post(client, inst, "getMessage", {"chatId": chat, "idMessage": id_message})
        assert settled([got]) == settled([item])


@pytest.mark.parametrize("minutes", ["0", "-1", "abc", "1.5", "43201", " 5"])
async def test_a_bad_minutes_is_400(
    client: httpx.AsyncClient, make_instance: MakeInstance, minutes: str
) -> None:
    inst = await make_instance()
    for method in ("lastIncomingMessages", "lastOutgoingMessages"):
        r = await client.get(inst.url(method), params={"minutes": minutes})
        assert (r.status_code, r.json()) == (400, MINUTES_ERROR), (method, minutes)


async def test_chat_history_and_get_message_refuse_bad_bodies(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    chat = "79001234567@c.us"
    cases: list[tuple[str, object, str]] = [
        ("getChatHistory", {}, "field chatId is required"),
        (
            "getChatHistory",
            {"chatId": "79001234567"},
            "chatId must be <phone digits>@c.us or <group id>@g.us",
        ),
        (
            "getChatHistory",
            {"chatId": chat, "count": 0},
            "count: Input should be greater than or equal to 1",
        ),
        ("getChatHistory", {"chatId": chat, "count": "5"}, "count must be an integer"),
        ("getMessage", {"chatId": chat}, "field idMessage is required"),
        ("getMessage", {"chatId": chat, "idMessage": ""}, "idMessage must not be empty"),
        ("readChat", {"chatId": "group"}, "chatId must be <phone digits>@c.us or <group id>@g.us"),
    ]
    for method, body, description in cases:
        r = await client.post(inst.url(method), json=body)
        assert (r.status_code, r.json()) == (400, {"code": 400, "description": description}), (
            method,
            body,
        )


async def test_get_message_is_404_for_unknown_other_chat_and_still_queued_messages(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    chat = f"{new_phone()}@c.us"
    queued = await send(client, inst, "sendMessage", {"chatId": chat, "message": "waiting"})
    for body in (
        {"chatId": chat, "idMessage": "0123456789ABCDEF0123"},
        {"chatId": f"{new_phone()}@c.us", "idMessage": queued},
        {"chatId": chat, "idMessage": queued},  # not sent yet: in no journal
    ):
        r = await client.post(inst.url("getMessage"), json=body)
        assert (r.status_code, r.json()) == (404, NOT_FOUND), body


async def test_chat_history_is_newest_first_by_send_time_for_a_message_that_waited(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(delaySendMessagesMilliseconds=1500)
    own, peer = new_phone(), new_phone()
    chat = f"{peer}@c.us"
    await authorize(client, inst, own)
    first = await send(client, inst, "sendMessage", {"chatId": chat, "message": "first"})
    waited = await send(client, inst, "sendMessage", {"chatId": chat, "message": "waited"})
    await wait_inbox(client, peer, inst.partner_token, 1)
    answer = await phone_sends(client, inst.partner_token, peer, own, "answer")
    await wait_incoming(client, inst, 1)
    # The answer arrived while "waited" still waited out the 1.5 s pause.
    assert [q["messageID"] for q in await show_queue(client, inst)] == [waited]
    await wait_outgoing(client, inst, 2)

    history = await post(client, inst, "getChatHistory", {"chatId": chat})
    stamps = [h["timestamp"] for h in history]
    assert [h["idMessage"] for h in history] == [waited, answer, first], stamps


# --- readChat -------------------------------------------------------------------------------


async def test_read_chat_answers_set_read_whatever_the_state(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await wait_for_state(client, inst, "notAuthorized")
    chat = f"{new_phone()}@c.us"
    assert await post(client, inst, "readChat", {"chatId": chat}) == {"setRead": True}
    body = {"chatId": chat, "idMessage": "0123456789ABCDEF0123"}
    assert await post(client, inst, "readChat", body) == {"setRead": True}


async def test_read_chat_of_one_message_sends_a_read_receipt_for_that_one_only(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    sender = await make_instance(outgoingWebhook="yes")
    reader = await make_instance(partner_token=sender.partner_token)
    ps, pr = new_phone(), new_phone()
    await asyncio.gather(authorize(client, sender, ps), authorize(client, reader, pr))
    ids = [
        await send(client, sender, "sendMessage", {"chatId": f"{pr}@c.us", "message": m})
        for m in ("a", "b")
    ]
    await wait_incoming(client, reader, 2)
    await wait_outgoing(client, sender, 2)

    body = {"chatId": f"{ps}@c.us", "idMessage": ids[1]}
    assert await post(client, reader, "readChat", body) == {"setRead": True}

    async def second_read() -> list[str] | None:
        journal = await get(client, sender, "lastOutgoingMessages")
        statuses = [j["statusMessage"] for j in journal]  # newest first
        return statuses if statuses[0] == "read" else None

    assert await eventually(second_read, "the read receipt") == ["read", "delivered"]


# --- checkWhatsapp, getAvatar ---------------------------------------------------------------


async def test_check_whatsapp_knows_sandbox_phones_and_refuses_bad_numbers(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, known = new_phone(), new_phone()
    await wait_for_state(client, inst, "notAuthorized")
    r = await client.post(inst.url("checkWhatsapp"), json={"phoneNumber": int(known)})
    assert (r.status_code, r.json()) == (400, NOT_AUTHORIZED)
    r = await client.post(inst.url("checkWhatsapp"), json={"phoneNumber": 7900})
    assert (r.status_code, r.json()) == (400, PHONE_ERROR)  # the number is checked first

    await authorize(client, inst, own)
    await phone_sends(client, inst.partner_token, known, new_phone(), "I exist")

    async def exists(number: int) -> bool:
        data = await post(client, inst, "checkWhatsapp", {"phoneNumber": number})
        assert list(data) == ["existsWhatsapp"]
        answer: bool = data["existsWhatsapp"]
        return answer

    assert await exists(int(known)) is True  # a virtual phone
    assert await exists(int(own)) is True  # a phone linked to an instance
    assert await exists(int(new_phone())) is False  # 11 digits, never seen
    assert await exists(int("3" + new_phone())) is False  # 12 digits, never seen

    for number in (7900123456, 7900123456789, 0, -79001234567):
        r = await client.post(inst.url("checkWhatsapp"), json={"phoneNumber": number})
        assert (r.status_code, r.json()) == (400, PHONE_ERROR), number
    for body, description in (
        ({}, "field phoneNumber is required"),
        ({"phoneNumber": known}, "phoneNumber must be an integer"),
        ({"phoneNumber": 79001234567.0}, "phoneNumber must be an integer"),
    ):
        r = await client.post(inst.url("checkWhatsapp"), json=body)
        assert (r.status_code, r.json()) == (400, {"code": 400, "description": description})


async def test_check_whatsapp_takes_a_chat_id_as_the_official_client_prefers(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own = new_phone()
    await authorize(client, inst, own)
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    answer = await asyncio.to_thread(api.serviceMethods.checkWhatsapp, chatId=f"{own}@c.us")
    assert (answer.code, answer.data) == (200, {"existsWhatsapp": True})


async def test_get_avatar_says_whether_the_chat_exists_and_has_no_picture(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, known = new_phone(), new_phone()
    await wait_for_state(client, inst, "notAuthorized")
    r = await client.post(inst.url("getAvatar"), json={"chatId": f"{known}@c.us"})
    assert (r.status_code, r.json()) == (400, NOT_AUTHORIZED)
    r = await client.post(inst.url("getAvatar"), json={"chatId": "nobody"})
    assert r.status_code == 400
    assert r.json()["description"] == "chatId must be <phone digits>@c.us or <group id>@g.us"

    await authorize(client, inst, own)
    await phone_sends(client, inst.partner_token, known, new_phone(), "hi")
    none = {"urlAvatar": "", "reason": ""}
    got = await post(client, inst, "getAvatar", {"chatId": f"{known}@c.us"})
    assert got == {"existsWhatsapp": True, **none}
    got = await post(client, inst, "getAvatar", {"chatId": f"{new_phone()}@c.us"})
    assert got == {"existsWhatsapp": False, **none}
    got = await post(client, inst, "getAvatar", {"chatId": "120363025955555555@g.us"})
    assert got == {"existsWhatsapp": True, **none}


# --- getContacts, getContactInfo ------------------------------------------------------------


async def test_get_contacts_lists_the_chats_and_get_contact_info_describes_one(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(delaySendMessagesMilliseconds=500)
    own, peer, quiet = new_phone(), new_phone(), new_phone()
    group = "120363025955555555@g.us"
    await authorize(client, inst, own)
    assert await get(client, inst, "getContacts") == []
    await send(client, inst, "sendMessage", {"chatId": f"{quiet}@c.us", "message": "hello?"})
    await send(client, inst, "sendMessage", {"chatId": group, "message": "fails: not in it"})
    await wait_inbox(client, quiet, inst.partner_token, 1)
    await phone_sends(client, inst.partner_token, peer, own, "hi there")
    await wait_incoming(client, inst, 1)

    async def all_three() -> list[Json] | None:
        found: list[Json] = await get(client, inst, "getContacts")
        return found if len(found) == 3 else None

    contacts = await eventually(all_three, "three contacts")
    by_id = {c["id"]: c for c in contacts}
    assert by_id == {
        f"{peer}@c.us": {"id": f"{peer}@c.us", "name": peer, "contactName": peer, "type": "user"},
        f"{quiet}@c.us": {"id": f"{quiet}@c.us", "name": "", "contactName": "", "type": "user"},
        group: {"id": group, "name": "", "contactName": "", "type": "group"},
    }
    assert await get(client, inst, "getContacts", group="true") == [by_id[group]]
    users = await get(client, inst, "getContacts", group="false")
    assert sorted(u["id"] for u in users) == sorted([f"{peer}@c.us", f"{quiet}@c.us"])
    assert len(await get(client, inst, "getContacts", count=1)) == 1

    info = await post(client, inst, "getContactInfo", {"chatId": f"{peer}@c.us"})
    assert info == {
        "avatar": "",
        "name": peer,
        "contactName": peer,
        "email": "",
        "category": "",
        "description": "",
        "products": [],
        "chatId": f"{peer}@c.us",
        "lastSeen": None,
        "isArchive": False,
        "isDisappearing": False,
        "isMute": False,
        "messageExpiration": 0,
        "muteExpiration": None,
        "isBusiness": False,
    }
    stranger = f"{new_phone()}@c.us"
    unknown = await post(client, inst, "getContactInfo", {"chatId": stranger})
    assert unknown == info | {"name": "", "contactName": "", "chatId": stranger}
    r = await client.post(inst.url("getContactInfo"), json={"chatId": peer})
    assert r.status_code == 400
    assert r.json()["description"] == "chatId must be <phone digits>@c.us or <group id>@g.us"


# --- the official client --------------------------------------------------------------------


async def test_official_client_sends_manages_the_queue_and_reads_journals(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    own, peer = new_phone(), new_phone()
    chat = f"{peer}@c.us"
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    call = asyncio.to_thread
    await wait_for_state(client, inst, "notAuthorized")

    dropped = await call(api.sending.sendMessage, chat, "never sent")
    assert dropped.code == 200 and ID_MESSAGE.match(dropped.data["idMessage"])
    shown = (await call(api.queues.showMessagesQueue)).data
    assert [s["messageID"] for s in shown] == [dropped.data["idMessage"]]
    assert shown[0]["body"]["chatId"] == chat
    assert (await call(api.queues.getMessagesCount)).data == {"count": 1, CYRILLIC_COUNT: 1}
    assert (await call(api.queues.clearMessagesQueue)).data == {"isCleared": True}
    assert (await call(api.queues.getMessagesCount)).data == {"count": 0, CYRILLIC_COUNT: 0}
    assert (await call(api.queues.showMessagesQueue)).data == []

    sent = (await call(api.sending.sendMessage, chat, "hello from the client")).data["idMessage"]
    await authorize(client, inst, own)
    got = await wait_inbox(client, peer, inst.partner_token, 1)
    assert [(m["idMessage"], m["text"]) for m in got] == [(sent, "hello from the client")]
    await wait_outgoing(client, inst, 1)
    journal = (await call(api.journals.lastOutgoingMessages, 5)).data
    assert [(j["idMessage"], j["textMessage"]) for j in journal] == [
        (sent, "hello from the client")
    ]

    exists = await call(api.serviceMethods.checkWhatsapp, int(peer))
    assert exists.data == {"existsWhatsapp": True}
    nobody = await call(api.serviceMethods.checkWhatsapp, int(new_phone()))
    assert nobody.data == {"existsWhatsapp": False}
    bad = await call(api.serviceMethods.checkWhatsapp, 123)
    assert bad.code == 400 and bad.data is None
    assert "bad phone number, valid 11 or 12 digits" in bad.error

    incoming = await phone_sends(client, inst.partner_token, peer, own, "and back")
    await wait_incoming(client, inst, 1)
    assert (await call(api.marking.readChat, chat)).data == {"setRead": True}
    history = (await call(api.journals.getChatHistory, chat, 10)).data
    assert [h["idMessage"] for h in history] == [incoming, sent]
    assert (await call(api.journals.lastIncomingMessages, 5)).data[0]["idMessage"] == incoming
