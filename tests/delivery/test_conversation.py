"""Two sandbox instances talk through the official client; everything they get is pushed to
webhooks of a real local receiver."""

from __future__ import annotations

import asyncio

import httpx
from whatsapp_api_client_python.API import GreenAPI

from tests.delivery.hooks import MakeHooked
from tests.receiver import Receiver
from tests.support import Instance, LiveServer, authorize

PHONE_A = "79000000501"
PHONE_B = "79000000502"
EVERYTHING = {
    "incomingWebhook": "yes",
    "outgoingWebhook": "yes",
    "outgoingAPIMessageWebhook": "yes",
}


def _of_type(receiver: Receiver, name: str, type_webhook: str) -> list[dict[str, object]]:
    return [r.body for r in receiver.of(name) if r.body["typeWebhook"] == type_webhook]


async def _wait(
    receiver: Receiver, name: str, type_webhook: str, count: int
) -> list[dict[str, object]]:
    for _ in range(300):
        got = _of_type(receiver, name, type_webhook)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.05)
    raise AssertionError(
        f"{name}: {len(_of_type(receiver, name, type_webhook))} of {count} {type_webhook}"
    )


def _client(server: LiveServer, inst: Instance) -> GreenAPI:
    return GreenAPI(str(inst.id), inst.token, host=server.url)


async def test_two_instances_talk_over_webhooks(
    dserver: LiveServer, dclient: httpx.AsyncClient, receiver: Receiver, make_hooked: MakeHooked
) -> None:
    a = await make_hooked("a", **EVERYTHING)
    b = await make_hooked("b", **EVERYTHING)
    await asyncio.gather(authorize(dclient, a, PHONE_A), authorize(dclient, b, PHONE_B))
    api_a, api_b = _client(dserver, a), _client(dserver, b)

    sent = await asyncio.to_thread(api_a.sending.sendMessage, f"{PHONE_B}@c.us", "hi B")
    assert sent.code == 200
    id_hi = sent.data["idMessage"]
    (incoming,) = await _wait(receiver, "b", "incomingMessageReceived", 1)
    assert incoming["idMessage"] == id_hi
    assert incoming["senderData"] == {
        "chatId": f"{PHONE_A}@c.us",
        "chatName": PHONE_A,
        "sender": f"{PHONE_A}@c.us",
        "senderName": PHONE_A,
        "senderContactName": PHONE_A,
    }
    assert incoming["messageData"] == {
        "typeMessage": "textMessage",
        "textMessageData": {"textMessage": "hi B"},
    }

    reply = await asyncio.to_thread(api_b.sending.sendMessage, f"{PHONE_A}@c.us", "hello A")
    (back,) = await _wait(receiver, "a", "incomingMessageReceived", 1)
    assert back["idMessage"] == reply.data["idMessage"]
    assert back["messageData"]["textMessageData"]["textMessage"] == "hello A"  # type: ignore[index]

    (api_message,) = await _wait(receiver, "a", "outgoingAPIMessageReceived", 1)
    assert api_message["idMessage"] == id_hi
    assert api_message["messageData"]["extendedTextMessageData"]["text"] == "hi B"  # type: ignore[index]
    await _wait(receiver, "a", "outgoingMessageStatus", 2)

    read = await asyncio.to_thread(api_b.marking.readChat, f"{PHONE_A}@c.us")
    assert read.data == {"setRead": True}
    statuses = await _wait(receiver, "a", "outgoingMessageStatus", 3)
    assert [(s["idMessage"], s["status"]) for s in statuses] == [
        (id_hi, "sent"),
        (id_hi, "delivered"),
        (id_hi, "read"),
    ]
    assert all(s["sendByApi"] is True and s["chatId"] == f"{PHONE_B}@c.us" for s in statuses)
