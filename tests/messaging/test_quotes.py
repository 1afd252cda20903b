"""Replies that quote a message (quotedMessageId)."""

from __future__ import annotations

import asyncio
import time

import httpx

from tests.sending import Json, notifications_until
from tests.support import Instance, MakeInstance, authorize


async def _incoming(
    client: httpx.AsyncClient, inst: Instance, id_message: str
) -> dict[str, object]:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        for item in (await client.get(inst.url("lastIncomingMessages"))).json():
            if item["idMessage"] == id_message:
                found: dict[str, object] = item
                return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"{id_message} never arrived")


async def test_a_reply_quotes_the_message_it_answers(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    a, b = await make_instance(incomingWebhook="yes"), await make_instance()
    phone_a, phone_b = "79000000701", "79000000702"
    await asyncio.gather(authorize(client, a, phone_a), authorize(client, b, phone_b))
    r = await client.post(a.url("sendMessage"), json={"chatId": f"{phone_b}@c.us", "message": "Q?"})
    question = r.json()["idMessage"]
    await _incoming(client, b, question)

    r = await client.post(
        b.url("sendMessage"),
        json={"chatId": f"{phone_a}@c.us", "message": "A!", "quotedMessageId": question},
    )
    assert r.status_code == 200, r.text
    answer = await _incoming(client, a, r.json()["idMessage"])
    assert answer["typeMessage"] == "quotedMessage"
    assert answer["textMessage"] == "A!"
    # The documented flat form: the quoted message's fields beside its id (spec §3.4).
    assert answer["quotedMessage"] == {
        "stanzaId": question,
        "participant": f"{phone_a}@c.us",
        "typeMessage": "textMessage",
        "textMessage": "Q?",
    }
    # The notification shows the same flat quote.
    reply = r.json()["idMessage"]

    def has_reply(bodies: list[Json]) -> bool:
        return any(b.get("idMessage") == reply for b in bodies)

    bodies = await notifications_until(client, a, has_reply)
    [note] = [b for b in bodies if b.get("idMessage") == reply]
    assert note["typeWebhook"] == "incomingMessageReceived"
    assert note["messageData"]["quotedMessage"] == answer["quotedMessage"]


async def test_quoting_an_unknown_message_is_refused(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    r = await client.post(
        inst.url("sendMessage"),
        json={"chatId": "79000000799@c.us", "message": "x", "quotedMessageId": "NOPE"},
    )
    assert r.status_code == 400
    assert r.json() == {
        "code": 400,
        "description": "quotedMessageId must be the id of a message of this chat",
    }
    assert (await client.get(inst.url("getMessagesCount"))).json()["count"] == 0
