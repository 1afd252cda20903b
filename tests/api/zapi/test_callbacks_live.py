"""Z-API callbacks pushed to a real local receiver, each kind to its own URL, on both databases.

Virtual phones of the sandbox network link instances and write to them; every phone number is
random, since the network is shared by every test of the session. A callback of an instance is
delivered in order behind the earlier ones of the same instance (one FIFO lane for all of its
callback URLs), so "nothing arrived at URL A" is checked once a later callback reached URL B.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.settings import DeliverySettings
from tests.receiver import Received, Receiver, running_receiver
from tests.sending import bearer, new_phone, phone_sends, wait_inbox
from tests.support import (
    LiveServer,
    MakePartner,
    authorize,
    server_fixture,
    wait_for_state,
)
from tests.zapi_callbacks import Linked, hook, linked, wait_body
from tests.zapi_client import ZapiInstance

Json = dict[str, Any]
# A momment must be this close to the test's clock (ms): same machine, but a slow CI.
CLOCK_SLACK_MS = 30_000
FAST_DELIVERY = DeliverySettings(timeout_s=2.0, pause_s=0.3, give_up_after_s=3.0, poll_s=0.2)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


async def notify_sent_by_me(zapi: ZapiInstance, on: bool) -> None:
    r = await zapi.put("update-notify-sent-by-me", {"notifySentByMe": on})
    assert (r.status_code, r.json()) == (200, {"value": on}), r.text


async def send_text(zapi: ZapiInstance, phone: str, text: str) -> Json:
    r = await zapi.send_text(phone, text)
    assert r.status_code == 200, r.text
    answer: Json = r.json()
    assert set(answer) >= {"zaapId", "messageId", "id"}, answer
    assert answer["id"] == answer["messageId"]
    return answer


async def wait_barrier(
    client: httpx.AsyncClient, token: str, inst: Linked, receiver: Receiver
) -> None:
    """Until a callback the instance queues now has arrived (at the "barrier" hook).

    It is delivered behind every callback the instance queued before (one lane): once it is
    in, a check that something else did not arrive is a real check, however slow the machine.
    """
    await hook(inst.zapi, "received", receiver.hook("barrier"))
    id_message = await phone_sends(client, token, new_phone(), inst.phone, "barrier")
    await wait_body(receiver, "barrier", {"messageId": id_message})


def bodies(receiver: Receiver, name: str) -> list[Json]:
    return [r.body for r in receiver.of(name, ok_only=False)]


def assert_momment(value: object) -> None:
    assert isinstance(value, int) and not isinstance(value, bool), value
    assert abs(value - time.time() * 1000) < CLOCK_SLACK_MS, value


def assert_callback_request(got: Received) -> None:
    """Callbacks are plain JSON POSTs: no GREEN-API webhook token goes along."""
    assert got.headers["content-type"].startswith("application/json")
    assert "authorization" not in got.headers


# --- one kind at a time -------------------------------------------------------------------


async def test_linking_sends_one_connected_callback(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {"connected": receiver.hook("connected")})
    (got,) = await receiver.wait_for("connected", 1)
    assert_callback_request(got)
    body = got.body
    assert set(body) >= {"type", "connected", "momment", "instanceId", "phone"}, body
    assert body["type"] == "ConnectedCallback"
    assert body["connected"] is True
    assert body["instanceId"] == inst.zapi.id and isinstance(body["instanceId"], str)
    assert body["phone"] == inst.phone
    assert_momment(body["momment"])
    await wait_barrier(client, token, inst, receiver)
    assert len(receiver.of("connected", ok_only=False)) == 1


async def test_a_message_from_a_phone_is_a_received_callback(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {"received": receiver.hook("received")})
    contact = new_phone()
    id_message = await phone_sends(client, token, contact, inst.phone, "hello, instance")
    (got,) = await receiver.wait_for("received", 1)
    assert_callback_request(got)
    body = got.body
    assert body["type"] == "ReceivedCallback"
    assert body["fromMe"] is False
    assert body["isGroup"] is False
    assert body["phone"] == contact
    assert body["text"] == {"message": "hello, instance"}
    assert body["messageId"] == id_message
    assert body["instanceId"] == inst.zapi.id
    assert body["connectedPhone"] == inst.phone
    assert_momment(body["momment"])


async def test_send_text_gives_a_delivery_callback_then_received_and_read_statuses(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    hooks = {"delivery": receiver.hook("delivery"), "message-status": receiver.hook("status")}
    inst = await linked(client, token, hooks)
    contact = new_phone()
    answer = await send_text(inst.zapi, contact, "hello, phone")
    message_id = answer["messageId"]

    (delivery,) = await receiver.wait_for("delivery", 1)
    assert_callback_request(delivery)
    body = delivery.body
    assert set(body) >= {"phone", "zaapId", "messageId", "instanceId", "momment", "type"}, body
    assert body["type"] == "DeliveryCallback"
    assert body["phone"] == contact
    assert body["zaapId"] == answer["zaapId"]
    assert body["messageId"] == message_id
    assert body["instanceId"] == inst.zapi.id
    assert "error" not in body
    assert_momment(body["momment"])

    # The phone got it, so its sandbox answered with a delivery receipt: RECEIVED.
    await wait_inbox(client, contact, token, 1)
    await wait_body(receiver, "status", {"status": "RECEIVED"})
    r = await client.post(
        f"/sandbox/phones/{contact}/read",
        json={"chatId": f"{inst.phone}@c.us"},
        headers=bearer(token),
    )
    assert (r.status_code, r.json()) == (200, {"read": 1}), r.text
    await wait_body(receiver, "status", {"status": "READ"})

    await wait_barrier(client, token, inst, receiver)
    statuses = bodies(receiver, "status")
    for status in statuses:
        assert status["type"] == "MessageStatusCallback"
        assert status["ids"] == [message_id]
        assert status["phone"] == contact
        assert status["instanceId"] == inst.zapi.id
        assert_momment(status["momment"])
    names = [s["status"] for s in statuses]
    # SENT may come first (Z-API documents it too); then RECEIVED, then READ, once each.
    assert names in (["SENT", "RECEIVED", "READ"], ["RECEIVED", "READ"]), names


async def test_received_delivery_gets_both_directions_and_notify_sent_by_me_adds_them_to_received(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    hooks = {"received": receiver.hook("rcv"), "received-delivery": receiver.hook("both")}
    inst = await linked(client, token, hooks)
    contact = new_phone()

    # notify-sent-by-me off (the default): an API send goes to received-delivery only.
    first = await send_text(inst.zapi, contact, "first")
    sent = await wait_body(receiver, "both", {"messageId": first["messageId"]})
    assert sent["type"] == "ReceivedCallback"
    assert sent["fromMe"] is True
    assert sent["phone"] == contact
    assert sent["instanceId"] == inst.zapi.id
    assert sent["connectedPhone"] == inst.phone
    assert sent["text"]["message"] == "first"
    assert_momment(sent["momment"])
    incoming_id = await phone_sends(client, token, contact, inst.phone, "a reply")
    incoming = await wait_body(receiver, "both", {"messageId": incoming_id})
    assert incoming["fromMe"] is False and incoming["phone"] == contact
    # The reply was queued after the send: once it reached "rcv", the send would have too.
    only = await wait_body(receiver, "rcv", {"messageId": incoming_id})
    assert only["fromMe"] is False
    assert [b["messageId"] for b in bodies(receiver, "rcv")] == [incoming_id]

    # On: the received URL gets messages sent by me too.
    await notify_sent_by_me(inst.zapi, True)
    second = await send_text(inst.zapi, contact, "second")
    mine = await wait_body(receiver, "rcv", {"messageId": second["messageId"]})
    assert mine["fromMe"] is True and mine["text"]["message"] == "second"
    await wait_body(receiver, "both", {"messageId": second["messageId"]})

    # Off again: received-delivery still gets them, received does not.
    await notify_sent_by_me(inst.zapi, False)
    third = await send_text(inst.zapi, contact, "third")
    await wait_body(receiver, "both", {"messageId": third["messageId"], "fromMe": True})
    barrier = await phone_sends(client, token, contact, inst.phone, "barrier")
    # The barrier's two callbacks are the last of the lane: nothing else can follow them.
    await wait_body(receiver, "rcv", {"messageId": barrier})
    await wait_body(receiver, "both", {"messageId": barrier})
    assert [b["messageId"] for b in bodies(receiver, "rcv")] == [
        incoming_id,
        second["messageId"],
        barrier,
    ]
    both = bodies(receiver, "both")
    assert [(b["messageId"], b["fromMe"]) for b in both] == [
        (first["messageId"], True),
        (incoming_id, False),
        (second["messageId"], True),
        (third["messageId"], True),
        (barrier, False),
    ]


async def test_disconnect_sends_a_disconnected_callback(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {"disconnected": receiver.hook("disconnected")})
    await wait_barrier(client, token, inst, receiver)
    assert receiver.of("disconnected", ok_only=False) == []  # linking is no disconnection
    r = await inst.zapi.get("disconnect")
    assert (r.status_code, r.json()) == (200, {"value": True}), r.text
    (got,) = await receiver.wait_for("disconnected", 1)
    assert_callback_request(got)
    body = got.body
    assert set(body) >= {"disconnected", "error", "type", "instanceId", "momment"}, body
    assert body["type"] == "DisconnectedCallback"
    assert body["disconnected"] is True
    assert isinstance(body["error"], str) and body["error"]
    assert body["instanceId"] == inst.zapi.id
    assert_momment(body["momment"])
    await wait_for_state(client, inst.green, "notAuthorized")
    # Linked again: its connected callback is queued behind any second disconnected one.
    await hook(inst.zapi, "connected", receiver.hook("relinked"))
    await authorize(client, inst.green, new_phone())
    await receiver.wait_for("relinked", 1)
    assert len(receiver.of("disconnected", ok_only=False)) == 1


# --- turning callbacks off, and GREEN-API notifications beside them --------------------------


async def test_an_empty_url_stops_that_kind_of_callback(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    hooks = {"received": receiver.hook("old"), "received-delivery": receiver.hook("barrier")}
    inst = await linked(client, token, hooks)
    contact = new_phone()
    before = await phone_sends(client, token, contact, inst.phone, "before")
    await wait_body(receiver, "old", {"messageId": before})

    await hook(inst.zapi, "received", "")
    me = (await inst.zapi.get("me")).json()
    assert me["receivedCallbackUrl"] == ""
    after = await phone_sends(client, token, contact, inst.phone, "after")
    # received-delivery still gets it; the received row would have been queued before it.
    await wait_body(receiver, "barrier", {"messageId": after})
    assert [b["messageId"] for b in bodies(receiver, "old")] == [before]


async def test_green_webhooks_arrive_in_green_shape_beside_zapi_callbacks(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {"received": receiver.hook("zapi")})
    r = await client.post(
        inst.green.url("setSettings"),
        json={"webhookUrl": receiver.hook("green"), "incomingWebhook": "yes"},
    )
    assert r.status_code == 200, r.text
    contact = new_phone()
    id_message = await phone_sends(client, token, contact, inst.phone, "to both")

    zapi = await wait_body(receiver, "zapi", {"messageId": id_message})
    assert zapi["type"] == "ReceivedCallback" and zapi["text"] == {"message": "to both"}
    green = await wait_body(receiver, "green", {"idMessage": id_message})
    assert green["typeWebhook"] == "incomingMessageReceived"
    assert green["instanceData"]["idInstance"] == inst.green.id
    assert green["instanceData"]["wid"] == f"{inst.phone}@c.us"
    assert green["senderData"]["chatId"] == f"{contact}@c.us"
    assert green["messageData"]["textMessageData"] == {"textMessage": "to both"}
    assert isinstance(green["timestamp"], int)
    # A later message, waited for on both lanes (callbacks, GREEN-API webhooks): whatever the
    # first one caused has been pushed by then.
    later = await phone_sends(client, token, contact, inst.phone, "later")
    await wait_body(receiver, "zapi", {"messageId": later})
    await wait_body(receiver, "green", {"idMessage": later})
    # Each URL gets its own format only.
    assert all("typeWebhook" in b and "type" not in b for b in bodies(receiver, "green"))
    assert all("typeWebhook" not in b and "type" in b for b in bodies(receiver, "zapi"))


async def test_receive_notification_returns_no_zapi_callbacks(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    hooks = {
        "received": receiver.hook("received"),
        "delivery": receiver.hook("delivery"),
        "message-status": receiver.hook("status"),
    }
    inst = await linked(client, token, hooks)
    r = await client.post(
        inst.green.url("setSettings"),
        json={
            "webhookUrl": "",
            "incomingWebhook": "yes",
            "outgoingAPIMessageWebhook": "yes",
            "outgoingWebhook": "yes",
        },
    )
    assert r.status_code == 200, r.text
    contact = new_phone()
    incoming = await phone_sends(client, token, contact, inst.phone, "polled")
    sent = await send_text(inst.zapi, contact, "pushed")
    await wait_body(receiver, "received", {"messageId": incoming})
    await wait_body(receiver, "delivery", {"messageId": sent["messageId"]})
    await wait_body(receiver, "status", {"status": "RECEIVED"})

    count = (await client.get(inst.green.url("getWebhooksCount"))).json()["count"]
    polled: list[Json] = []
    for _ in range(count):
        got = await client.get(inst.green.url("receiveNotification"), params={"receiveTimeout": 5})
        item = got.json()
        assert item is not None, polled
        polled.append(item["body"])
        d = await client.delete(f"{inst.green.url('deleteNotification')}/{item['receiptId']}")
        assert d.json() == {"result": True}
    assert all("typeWebhook" in b and "type" not in b for b in polled), polled
    kinds = {(b["typeWebhook"], b.get("idMessage")) for b in polled}
    assert ("incomingMessageReceived", incoming) in kinds, kinds
    assert ("outgoingAPIMessageReceived", sent["messageId"]) in kinds, kinds
    left = (await client.get(inst.green.url("getWebhooksCount"))).json()["count"]
    assert left == 0


# --- at-least-once, with a delivery worker that retries fast ---------------------------------


fast_server = server_fixture(
    "zapi-callbacks",
    "A live server whose delivery worker pauses only FAST_DELIVERY.pause_s before retrying.",
    delivery=FAST_DELIVERY,
    ratelimits={"enabled": False},
)


@pytest.fixture
async def fast_client(fast_server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=fast_server.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
async def fast_ctx(fast_server: LiveServer) -> AsyncIterator[Context]:
    context = Context.from_settings(fast_server.settings)
    yield context
    await context.db.dispose()


async def fast_partner(ctx: Context) -> str:
    async with ctx.db.transaction() as session:
        name = f"zapi-retry-{secrets.token_hex(6)}"
        _, token = await partners.create_partner(session=session, name=name)
    return token


async def test_a_failed_callback_is_sent_again(
    fast_ctx: Context, fast_client: httpx.AsyncClient, receiver: Receiver
) -> None:
    token = await fast_partner(fast_ctx)
    receiver.behave("flaky", fail_first=1, fail_status=503)
    inst = await linked(
        fast_client, token, {"received": receiver.hook("flaky"), "delivery": receiver.hook("next")}
    )
    contact = new_phone()
    id_message = await phone_sends(fast_client, token, contact, inst.phone, "again")
    (ok,) = await receiver.wait_for("flaky", 1)
    every = receiver.of("flaky", ok_only=False)
    assert [r.answered for r in every] == [503, 200]
    assert every[0].raw == every[1].raw  # the same callback, not a new one
    assert ok.body["messageId"] == id_message and ok.body["type"] == "ReceivedCallback"
    assert every[1].at - every[0].at >= FAST_DELIVERY.pause_s * 0.8
    # The instance's later callbacks went out after it, in order.
    sent = await send_text(inst.zapi, contact, "after the retry")
    (delivery,) = await receiver.wait_for("next", 1)
    assert delivery.body["messageId"] == sent["messageId"]
    assert delivery.at > every[1].at


async def test_a_dead_callback_replays_to_its_own_url_not_to_the_green_queue(
    fast_ctx: Context, fast_client: httpx.AsyncClient, receiver: Receiver
) -> None:
    token = await fast_partner(fast_ctx)
    receiver.behave("down", fail_first=10_000)
    inst = await linked(fast_client, token, {"received": receiver.hook("down")})
    contact = new_phone()
    id_message = await phone_sends(fast_client, token, contact, inst.phone, "undeliverable")
    deadline = time.monotonic() + 15
    dead: list[Json] = []
    while time.monotonic() < deadline and not dead:
        r = await fast_client.get("/admin/dead-letters", headers=bearer(token))
        dead = r.json()["deadLetters"]
        await asyncio.sleep(0.1)
    (letter,) = dead
    assert letter["typeWebhook"] == "ReceivedCallback"
    assert letter["body"]["messageId"] == id_message
    queued = (await fast_client.get(inst.green.url("getWebhooksCount"))).json()["count"]

    receiver.behave("down")  # the receiver is back
    r = await fast_client.post(
        "/admin/dead-letters/replay", json={"ids": [letter["id"]]}, headers=bearer(token)
    )
    assert r.status_code == 200 and len(r.json()["replayed"]) == 1, r.text
    (got,) = await receiver.wait_for("down", 1, timeout=5.0)
    assert got.body == letter["body"]
    # A callback is no GREEN-API notification: the polling queue did not grow.
    after = (await fast_client.get(inst.green.url("getWebhooksCount"))).json()["count"]
    assert after == queued
