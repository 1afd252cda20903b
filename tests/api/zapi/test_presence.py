"""Chat presence: a virtual phone typing in a chat reaches the presence callback URL."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.receiver import Receiver, running_receiver
from tests.support import Instance, MakePartner, authorize
from tests.zapi_client import ZapiInstance, ZapiPartner


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def _phone() -> str:
    return "7955" + "".join(secrets.choice("0123456789") for _ in range(7))


async def _linked(
    client: httpx.AsyncClient, make_partner: MakePartner, **options: object
) -> tuple[ZapiInstance, str, str]:
    partner_token = await make_partner()
    inst = await ZapiPartner(client, partner_token).new_instance("presence", **options)
    phone = _phone()
    await authorize(client, Instance(int(inst.id), inst.token, partner_token), phone)
    return inst, phone, partner_token


async def test_typing_reaches_the_presence_callback(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    url = receiver.hook("presence")
    inst, phone, partner_token = await _linked(client, make_partner, presenceChatCallbackUrl=url)
    contact = _phone()
    auth = {"Authorization": f"Bearer {partner_token}"}
    for status in ("COMPOSING", "PAUSED", "UNAVAILABLE"):
        r = await client.post(
            f"/sandbox/phones/{contact}/presence",
            json={"chatId": f"{phone}@c.us", "status": status},
            headers=auth,
        )
        assert r.status_code == 200, r.text
    got = await receiver.wait_for("presence", 3)
    bodies = [g.body for g in got]
    assert [b["status"] for b in bodies] == ["COMPOSING", "PAUSED", "UNAVAILABLE"]
    for body in bodies:
        assert body["type"] == "PresenceChatCallback"
        assert body["phone"] == contact
        assert body["instanceId"] == inst.id
    assert bodies[0]["lastSeen"] is None
    # Gone offline: when it was last seen, in ms.
    assert abs(bodies[2]["lastSeen"] - time.time() * 1000) < 60_000


async def test_presence_without_a_url_sends_nothing(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    url = receiver.hook("other")
    _, phone, partner_token = await _linked(client, make_partner, receivedCallbackUrl=url)
    auth = {"Authorization": f"Bearer {partner_token}"}
    contact = _phone()
    r = await client.post(
        f"/sandbox/phones/{contact}/presence",
        json={"chatId": f"{phone}@c.us", "status": "AVAILABLE"},
        headers=auth,
    )
    assert r.status_code == 200
    # A message after it arrives; the presence before it never did.
    r = await client.post(
        f"/sandbox/phones/{contact}/messages",
        json={"chatId": f"{phone}@c.us", "message": "hi"},
        headers=auth,
    )
    assert r.status_code == 200
    got = await receiver.wait_for("other", 1)
    assert [g.body["type"] for g in got] == ["ReceivedCallback"]


async def test_bad_presence_is_refused(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    auth = {"Authorization": f"Bearer {await make_partner()}"}
    r = await client.post(
        f"/sandbox/phones/{_phone()}/presence",
        json={"chatId": f"{_phone()}@c.us", "status": "DANCING"},
        headers=auth,
    )
    assert r.status_code == 400
    assert "status must be one of" in r.json()["error"]
