"""Z-API's send-option-list and group events (send-event, send-edit-event,
send-event-response) through the sandbox network on both databases: each answers the send
triple and reaches the group's members (virtual phones and instances); the member instance
gets the ``event{…}`` and ``eventResponse{…}`` ReceivedCallbacks pushed to a real local
receiver; bad input answers Z-API's error and queues nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from fleetgate.context import Context
from tests.api.zapi.instances import assert_error, green_queue, new_phone
from tests.api.zapi.pair import Json, Pair, make_pair, triple
from tests.api.zapi.zgroups import ok
from tests.receiver import Receiver, running_receiver
from tests.support import LiveServer
from tests.zapi_callbacks import wait_body
from tests.zapi_client import ZapiInstance

PHONE = "5544999999999"
GROUP = "120363423529374305-group"
EVENT = {"name": "Launch", "dateTime": "2026-12-24T18:30:00Z", "canceled": False}
# 2026-12-24T18:30:00Z in epoch seconds.
LAUNCH_S = 1_798_137_000


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


@pytest.fixture(scope="module")
async def pair(server: LiveServer, ctx: Context, receiver: Receiver) -> AsyncIterator[Pair]:
    hooks = {"received": receiver.hook("rcv"), "received-delivery": receiver.hook("both")}
    async for made in make_pair(server, ctx, **hooks):
        yield made


@pytest.fixture(scope="module")
async def group(pair: Pair) -> tuple[str, str]:
    """A group the Z-API instance made, with the peer instance and a virtual phone in it:
    its Z-API id and the phone's number."""
    member = new_phone()
    made = ok(await pair.z.create_group("Events", [pair.peer_phone, member]))
    phone: str = made["phone"]
    return phone, member


def peer_zapi(pair: Pair) -> ZapiInstance:
    """The peer instance on the Z-API paths (one instance serves both façades)."""
    return ZapiInstance(pair.http, str(pair.peer.id), pair.peer.token)


def g_us(group: str) -> str:
    return group.removesuffix("-group") + "@g.us"


async def test_send_option_list_reaches_the_phone_as_a_list_message(pair: Pair) -> None:
    to = new_phone()
    options = [
        {"id": "a", "title": "Pizza", "description": "With cheese"},
        {"title": "Salad"},
    ]
    body = {
        "phone": to,
        "message": "What for lunch?",
        "optionList": {"title": "Menu", "buttonLabel": "Open", "options": options},
    }
    sent = triple(await pair.z.post("send-option-list", body))
    got = await pair.arrived(to, sent)
    assert got["typeMessage"] == "listMessage"
    assert got["messageData"]["listMessage"] == {
        "contentText": "What for lunch?",
        "title": "Menu",
        "footer": "",
        "buttonText": "Open",
        "sections": [
            {
                "title": "Menu",
                "rows": [
                    {"title": "Pizza", "rowId": "a", "description": "With cheese"},
                    {"title": "Salad", "rowId": "2", "description": ""},
                ],
            }
        ],
    }


async def test_an_event_reaches_the_group_and_its_edit_and_answers_follow(
    pair: Pair, group: tuple[str, str], receiver: Receiver
) -> None:
    gid, member = group
    event = EVENT | {
        "description": "Come along",
        "location": {"name": "Office"},
        "callLinkType": "video",
    }
    sent = triple(await pair.z.post("send-event", {"phone": gid, "event": event}))
    got = await pair.arrived(member, sent)
    assert got["chatId"] == g_us(gid) and got["typeMessage"] == "eventMessage"
    assert got["messageData"]["eventMessageData"] == {
        "name": "Launch",
        "description": "Come along",
        "startTime": LAUNCH_S,
        "canceled": False,
        "location": {"name": "Office"},
        "callLinkType": "video",
    }
    theirs = await pair.journaled(pair.peer, g_us(gid), sent)
    assert theirs["typeMessage"] == "eventMessage"
    # The instance's own event comes back to it as sent by it.
    mine = await wait_body(receiver, "both", {"messageId": sent, "fromMe": True})
    assert mine["isGroup"] is True and mine["phone"] == gid
    assert mine["event"] == {
        "name": "Launch",
        "description": "Come along",
        "canceled": False,
        "joinLink": "",
        "scheduleTime": LAUNCH_S,
        "location": {"name": "Office"},
    }

    # Cancelled through an edit: a new message pointing at the event.
    edit = {"phone": gid, "eventMessageId": sent, "event": EVENT | {"canceled": True}}
    edited = triple(await pair.z.post("send-edit-event", edit))
    assert edited != sent
    got = await pair.arrived(member, edited)
    data = got["messageData"]["eventMessageData"]
    assert data["stanzaId"] == sent and data["canceled"] is True

    # The peer answers the instance's event: the instance hears who goes to which event.
    answered = triple(
        await peer_zapi(pair).post(
            "send-event-response",
            {"phone": gid, "eventMessageId": sent, "eventResponse": "GOING"},
        )
    )
    heard = await wait_body(receiver, "rcv", {"messageId": answered})
    assert heard["fromMe"] is False and heard["participantPhone"] == pair.peer_phone
    assert heard["eventResponse"] == {
        "response": "GOING",
        "responseFrom": pair.peer_phone,
        "time": heard["momment"],
        "referencedMessage": {
            "messageId": sent,
            "fromMe": True,
            "phone": gid,
            "participant": pair.own,
        },
    }
    got = await pair.arrived(member, answered)
    assert got["messageData"]["eventResponseMessageData"]["response"] == "GOING"


async def test_an_event_from_a_member_is_received_with_its_edits(
    pair: Pair, group: tuple[str, str], receiver: Receiver
) -> None:
    gid, _ = group
    peer = peer_zapi(pair)
    # No offset in dateTime: read in timeZone (UTC-3), so 15:30 there is 18:30 UTC.
    local = EVENT | {"dateTime": "2026-12-24T15:30:00", "timeZone": "UTC-3"}
    sent = triple(await peer.post("send-event", {"phone": gid, "event": local}))
    heard = await wait_body(receiver, "rcv", {"messageId": sent})
    assert heard["type"] == "ReceivedCallback" and heard["isEdit"] is False
    assert heard["participantPhone"] == pair.peer_phone and heard["phone"] == gid
    assert heard["event"] == {
        "name": "Launch",
        "description": "",
        "canceled": False,
        "joinLink": "",
        "scheduleTime": LAUNCH_S,
        "location": {},
    }

    renamed = EVENT | {"name": "Launch party"}
    edit = {"phone": gid, "eventMessageId": sent, "event": renamed}
    edited = triple(await peer.post("send-edit-event", edit))
    # An edit is the event again, under its id, with isEdit (as edited texts are).
    heard = await wait_body(receiver, "rcv", {"messageId": sent, "isEdit": True})
    assert heard["event"]["name"] == "Launch party"
    await pair.journaled(pair.green, g_us(gid), edited)

    # The instance may answer a member's event, not edit it.
    answer = {"phone": gid, "eventMessageId": sent, "eventResponse": "NOT_GOING"}
    answered = triple(await pair.z.post("send-event-response", answer))
    mine = await wait_body(receiver, "both", {"messageId": answered})
    assert mine["fromMe"] is True
    assert mine["eventResponse"]["response"] == "NOT_GOING"
    assert mine["eventResponse"]["responseFrom"] == pair.own
    assert mine["eventResponse"]["referencedMessage"]["participant"] == pair.peer_phone
    assert mine["eventResponse"]["referencedMessage"]["fromMe"] is False
    assert_error(await pair.z.post("send-edit-event", edit), 400)
    # Nor can an edit be answered or edited: only the event it replaces.
    answer_edit = answer | {"eventMessageId": edited}
    assert_error(await pair.z.post("send-event-response", answer_edit), 400)


async def test_events_are_queued_for_a_group_only(pair: Pair) -> None:
    triple(await pair.idle.post("send-event", {"phone": GROUP, "event": EVENT}))
    count, queue = await green_queue(pair.http, pair.idle_green)
    assert count == 1 and queue[0]["body"]["chatId"] == g_us(GROUP)
    r = await pair.http.get(pair.idle_green.url("clearMessagesQueue"))
    assert r.json() == {"isCleared": True}
    r = await pair.idle.post("send-event", {"phone": PHONE, "event": EVENT})
    assert_error(r, 400)
    assert "group" in r.json()["error"]
    await pair.queued_nothing()


OPTIONS = {
    "phone": PHONE,
    "message": "m",
    "optionList": {"title": "t", "buttonLabel": "b", "options": [{"title": "o"}]},
}
RESPONSE = {"phone": GROUP, "eventMessageId": "NOSUCHMESSAGE", "eventResponse": "GOING"}


def _options(**changed: object) -> Json:
    return OPTIONS | {"optionList": OPTIONS["optionList"] | changed}


BAD: list[tuple[str, Json]] = [
    ("send-option-list", OPTIONS | {"message": ""}),
    ("send-option-list", _options(options=[])),
    ("send-option-list", _options(options=[{"title": "o"}] * 11)),
    ("send-option-list", _options(options=[{"id": "x", "title": "a"}, {"id": "x", "title": "b"}])),
    ("send-option-list", _options(options=[{"description": "no title"}])),
    ("send-option-list", _options(buttonLabel="")),
    ("send-option-list", {"phone": PHONE, "message": "m"}),
    ("send-option-list", OPTIONS | {"phone": "12ab"}),
    ("send-event", {"phone": GROUP, "event": EVENT | {"dateTime": "tomorrow"}}),
    ("send-event", {"phone": GROUP, "event": EVENT | {"timeZone": "GMT+3"}}),
    ("send-event", {"phone": GROUP, "event": EVENT | {"timeZone": "UTC+15"}}),
    ("send-event", {"phone": GROUP, "event": EVENT | {"canceled": "no"}}),
    ("send-event", {"phone": GROUP, "event": EVENT | {"callLinkType": "phone"}}),
    ("send-event", {"phone": GROUP, "event": EVENT | {"name": ""}}),
    ("send-event", {"phone": GROUP, "event": {"name": "x", "canceled": False}}),
    ("send-event", {"phone": GROUP}),
    ("send-event", {"phone": f"{PHONE}@c.us", "event": EVENT}),
    ("send-edit-event", {"phone": GROUP, "event": EVENT}),
    ("send-edit-event", {"phone": GROUP, "event": EVENT, "eventMessageId": "NOSUCHMESSAGE"}),
    ("send-edit-event", {"phone": PHONE, "event": EVENT, "eventMessageId": "X"}),
    ("send-event-response", RESPONSE),
    ("send-event-response", RESPONSE | {"eventResponse": "MAYBE"}),
    ("send-event-response", RESPONSE | {"phone": PHONE}),
    ("send-event-response", {"phone": GROUP, "eventResponse": "GOING"}),
]


@pytest.mark.parametrize(("route", "body"), BAD, ids=[f"{r}-{n}" for n, (r, _) in enumerate(BAD)])
async def test_bad_input_answers_the_zapi_error_and_queues_nothing(
    pair: Pair, route: str, body: Json
) -> None:
    assert_error(await pair.idle.post(route, body), 400)
    await pair.queued_nothing()


async def test_the_same_bodies_made_good_are_queued(pair: Pair) -> None:
    """The bad bodies above fail for what they change, not for the rest of them."""
    for route, body in [
        ("send-option-list", OPTIONS),
        ("send-event", {"phone": GROUP, "event": EVENT | {"timeZone": "UTC+5:30"}}),
    ]:
        triple(await pair.idle.post(route, body))
    count, _ = await green_queue(pair.http, pair.idle_green)
    assert count == 2
    r = await pair.http.get(pair.idle_green.url("clearMessagesQueue"))
    assert r.json() == {"isCleared": True}
