"""Z-API callbacks of what acts on messages, pushed to a real local receiver on both databases:
reactions (and their removal), poll votes, edits (``isEdit``), deletions (``REVOKE``), and the
location and contact objects. Virtual phones react, vote, edit and delete; a second instance
sends what a phone cannot. No GREEN-API switch is turned on: Z-API has none for these."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from fleetgate.context import Context
from tests.api.zapi.instances import new_phone
from tests.api.zapi.pair import Json, Pair, make_pair, triple
from tests.receiver import Receiver, running_receiver
from tests.sending import bearer
from tests.support import LiveServer
from tests.zapi_callbacks import wait_body


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


@pytest.fixture(scope="module")
async def pair(server: LiveServer, ctx: Context, receiver: Receiver) -> AsyncIterator[Pair]:
    hooks = {"received": receiver.hook("rcv"), "received-delivery": receiver.hook("both")}
    async for made in make_pair(server, ctx, **hooks):
        yield made


async def phone_does(pair: Pair, phone: str, action: str, body: Json) -> str:
    """A virtual phone acts on a message of its chat with the instance; the action's id."""
    r = await pair.http.post(
        f"/sandbox/phones/{phone}/{action}",
        json={"chatId": f"{pair.own}@c.us", **body},
        headers=bearer(pair.token),
    )
    assert r.status_code == 200, r.text
    id_message: str = r.json()["idMessage"]
    return id_message


def assert_received(body: Json, pair: Pair, phone: str, *, from_me: bool = False) -> None:
    assert body["type"] == "ReceivedCallback"
    assert body["instanceId"] == pair.z.id
    assert body["phone"] == phone
    assert body["fromMe"] is from_me
    assert body["connectedPhone"] == pair.own


async def test_a_reaction_and_its_removal(pair: Pair, receiver: Receiver) -> None:
    phone = new_phone()
    mine = await pair.sent_text(phone, "react to me")
    reacted = await phone_does(pair, phone, "react", {"idMessage": mine, "reaction": "❤️"})
    body = await wait_body(receiver, "rcv", {"messageId": reacted})
    assert_received(body, pair, phone)
    assert body["reaction"] == {
        "value": "❤️",
        "time": body["momment"],
        "reactionBy": phone,
        "referencedMessage": {
            "messageId": mine,
            "fromMe": True,
            "phone": phone,
            "participant": None,
        },
    }
    assert "text" not in body and "referenceMessageId" not in body

    removed = await phone_does(pair, phone, "react", {"idMessage": mine, "reaction": ""})
    body = await wait_body(receiver, "rcv", {"messageId": removed})
    assert body["reaction"]["value"] == ""
    assert body["reaction"]["referencedMessage"]["messageId"] == mine


async def test_a_poll_vote(pair: Pair, receiver: Receiver) -> None:
    phone = new_phone()
    poll = triple(await pair.z.send_poll(phone, "Lunch?", ["Yes", "No", "Later"]))
    await pair.arrived(phone, poll)
    voted = await phone_does(pair, phone, "vote", {"idMessage": poll, "options": ["Later"]})
    body = await wait_body(receiver, "rcv", {"messageId": voted})
    assert_received(body, pair, phone)
    assert body["pollVote"] == {"pollMessageId": poll, "options": [{"name": "Later"}]}


async def test_an_edit_is_the_message_again_with_is_edit(pair: Pair, receiver: Receiver) -> None:
    phone = new_phone()
    original = await pair.from_phone(phone, "see you at 5")
    await phone_does(pair, phone, "edit", {"idMessage": original, "message": "see you at 6"})
    body = await wait_body(receiver, "rcv", {"messageId": original, "isEdit": True})
    assert_received(body, pair, phone)
    assert body["text"] == {"message": "see you at 6"}


async def test_a_deletion_is_a_revoke_notification(pair: Pair, receiver: Receiver) -> None:
    phone = new_phone()
    original = await pair.from_phone(phone, "never mind")
    deletion = await phone_does(pair, phone, "delete", {"idMessage": original})
    body = await wait_body(receiver, "rcv", {"messageId": deletion})
    assert_received(body, pair, phone)
    assert body["notification"] == "REVOKE"
    assert body["notificationParameters"] == []
    assert body["referenceMessageId"] == original
    assert "text" not in body


async def test_location_and_contact_objects(pair: Pair, receiver: Receiver) -> None:
    location = {"latitude": -23.5, "longitude": -46.6, "nameLocation": "Office", "address": "Main"}
    sent = await pair.from_peer("sendLocation", location)
    body = await wait_body(receiver, "rcv", {"messageId": sent})
    assert_received(body, pair, pair.peer_phone)
    assert body["location"] == {
        "latitude": -23.5,
        "longitude": -46.6,
        "name": "Office",
        "address": "Main",
        "url": "",
        "thumbnailUrl": "",
    }
    contact = {"phoneContact": 5511999998888, "firstName": "Ana"}
    sent = await pair.from_peer("sendContact", {"contact": contact})
    body = await wait_body(receiver, "rcv", {"messageId": sent})
    assert body["contact"]["displayName"] == "Ana"
    assert body["contact"]["phones"] == ["5511999998888"]
    assert "BEGIN:VCARD" in body["contact"]["vCard"]


async def test_the_instances_own_actions_come_back_as_sent_by_me(
    pair: Pair, receiver: Receiver
) -> None:
    phone = new_phone()
    theirs = await pair.from_phone(phone, "nice")
    reacted = triple(await pair.z.send_reaction(phone, theirs, "👍"))
    body = await wait_body(receiver, "both", {"messageId": reacted})
    assert_received(body, pair, phone, from_me=True)
    assert body["reaction"]["reactionBy"] == pair.own
    assert body["reaction"]["referencedMessage"] == {
        "messageId": theirs,
        "fromMe": False,
        "phone": phone,
        "participant": None,
    }

    mine = await pair.sent_text(phone, "a tpyo")
    assert triple(await pair.z.send_text(phone, "a typo", editMessageId=mine)) == mine
    body = await wait_body(receiver, "both", {"messageId": mine, "isEdit": True})
    assert_received(body, pair, phone, from_me=True)
    assert body["text"] == {"message": "a typo"}

    r = await pair.z.delete_message(phone, mine, owner=True)
    assert r.status_code == 204, r.text
    body = await wait_body(receiver, "both", {"referenceMessageId": mine})
    assert body["notification"] == "REVOKE" and body["fromMe"] is True
