"""Two partners on the shared sandbox network, through the live server on both databases.

A number belongs to the first partner that uses it: the other partner cannot read its inbox,
write or read or show presence as it, nor scan, type codes or log out with it (404, one answer
for every number not theirs). Messages still flow between the two partners' phones and instances.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import func, select

from fleetgate.context import Context
from fleetgate.engines.sandbox import network
from fleetgate.storage.tables import SandboxEventRow
from tests.sending import (
    bearer,
    new_phone,
    phone_sends,
    send,
    wait_inbox,
    wait_outgoing,
)
from tests.support import Instance, MakeInstance, MakePartner, authorize, wait_for_state

NOT_YOURS = {"error": "this number is not one of your phones"}


@dataclass(frozen=True)
class Alice:
    """A partner whose instance is linked to ``own`` and whose phone ``customer`` wrote to it."""

    inst: Instance
    own: str
    customer: str

    @property
    def token(self) -> str:
        return self.inst.partner_token


@pytest.fixture
async def alice(client: httpx.AsyncClient, make_instance: MakeInstance) -> Alice:
    inst = await make_instance()
    own, customer = new_phone(), new_phone()
    await authorize(client, inst, own)
    await phone_sends(client, inst.partner_token, customer, own, "hello Alice")
    return Alice(inst, own, customer)


async def count_events(ctx: Context, kind: str, from_phone: str, to_phone: str) -> int:
    """How many events of ``kind`` the network holds from one number to another."""
    async with ctx.db.reading() as session:
        n = await session.scalar(
            select(func.count()).where(
                SandboxEventRow.kind == kind,
                SandboxEventRow.from_phone == from_phone,
                SandboxEventRow.to_phone == to_phone,
            )
        )
    return int(n or 0)


async def incoming_texts(client: httpx.AsyncClient, inst: Instance) -> list[str]:
    r = await client.get(inst.url("lastIncomingMessages"))
    assert r.status_code == 200, r.text
    return [m["textMessage"] for m in r.json()]


async def wait_incoming(client: httpx.AsyncClient, inst: Instance, text: str) -> list[str]:
    """The instance's incoming journal once ``text`` is in it (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while text not in (texts := await incoming_texts(client, inst)):
        assert loop.time() < deadline, f"{text!r} never arrived: {texts}"
        await asyncio.sleep(0.05)
    return texts


# --- reading ----------------------------------------------------------------------------------


async def test_another_partners_inbox_is_404_and_the_same_for_every_number_not_yours(
    client: httpx.AsyncClient, make_partner: MakePartner, alice: Alice
) -> None:
    bob = await make_partner()
    only_claimed = new_phone()
    r = await client.get(f"/sandbox/phones/{only_claimed}/messages", headers=bearer(alice.token))
    assert r.json() == {"messages": []}
    # A number Alice's instance wrote to goes to Alice, though no phone of hers used it yet.
    recipient = new_phone()
    await send(client, alice.inst, "sendMessage", {"chatId": f"{recipient}@c.us", "message": "x"})
    await wait_inbox(client, recipient, alice.token, 1)

    # Linked, with messages, written to, or merely taken: Bob learns nothing more than "not yours".
    for number in (alice.own, alice.customer, recipient, only_claimed):
        r = await client.get(f"/sandbox/phones/{number}/messages", headers=bearer(bob))
        assert (r.status_code, r.json()) == (404, NOT_YOURS), number
    got = await wait_inbox(client, alice.own, alice.token, 1)
    assert [m["text"] for m in got] == ["hello Alice"]


# --- writing, reading chats, presence ---------------------------------------------------------


async def test_writing_as_another_partners_phone_is_404_and_posts_nothing(
    client: httpx.AsyncClient, ctx: Context, make_partner: MakePartner, alice: Alice
) -> None:
    bob = await make_partner()
    for sender in (alice.customer, alice.own):
        r = await client.post(
            f"/sandbox/phones/{sender}/messages",
            json={"chatId": f"{alice.own}@c.us", "message": "forged"},
            headers=bearer(bob),
        )
        assert (r.status_code, r.json()) == (404, NOT_YOURS)
    # Alice's own phone still writes; what her instance took in is only hers.
    await phone_sends(client, alice.token, alice.customer, alice.own, "second")
    assert await wait_incoming(client, alice.inst, "second") == ["second", "hello Alice"]
    assert await count_events(ctx, network.MESSAGE, alice.customer, alice.own) == 2
    assert await count_events(ctx, network.MESSAGE, alice.own, alice.own) == 0


async def test_reading_as_another_partners_phone_is_404_and_sends_no_receipt(
    client: httpx.AsyncClient, ctx: Context, make_partner: MakePartner, alice: Alice
) -> None:
    bob = await make_partner()
    await send(
        client, alice.inst, "sendMessage", {"chatId": f"{alice.customer}@c.us", "message": "q"}
    )
    await wait_inbox(client, alice.customer, alice.token, 1)
    r = await client.post(
        f"/sandbox/phones/{alice.customer}/read",
        json={"chatId": f"{alice.own}@c.us"},
        headers=bearer(bob),
    )
    assert (r.status_code, r.json()) == (404, NOT_YOURS)
    assert await count_events(ctx, network.RECEIPT, alice.customer, alice.own) == 1  # delivered

    r = await client.post(
        f"/sandbox/phones/{alice.customer}/read",
        json={"chatId": f"{alice.own}@c.us"},
        headers=bearer(alice.token),
    )
    assert r.json() == {"read": 1}
    await wait_outgoing(client, alice.inst, 1, status="read")


async def test_presence_as_another_partners_phone_is_404(
    client: httpx.AsyncClient, ctx: Context, make_partner: MakePartner, alice: Alice
) -> None:
    bob = await make_partner()
    body = {"chatId": f"{alice.own}@c.us", "status": "COMPOSING"}
    r = await client.post(
        f"/sandbox/phones/{alice.customer}/presence", json=body, headers=bearer(bob)
    )
    assert (r.status_code, r.json()) == (404, NOT_YOURS)
    assert await count_events(ctx, network.PRESENCE, alice.customer, alice.own) == 0
    r = await client.post(
        f"/sandbox/phones/{alice.customer}/presence", json=body, headers=bearer(alice.token)
    )
    assert r.json() == {"presence": "COMPOSING"}
    assert await count_events(ctx, network.PRESENCE, alice.customer, alice.own) == 1


# --- linking ----------------------------------------------------------------------------------


async def test_another_partners_linked_number_cannot_be_scanned_linked_or_logged_out(
    client: httpx.AsyncClient, make_instance: MakeInstance, alice: Alice
) -> None:
    bob_inst = await make_instance()
    bob = bob_inst.partner_token
    await wait_for_state(client, bob_inst, "notAuthorized")
    qr = (await client.get(f"/sandbox/instances/{bob_inst.id}/qr", headers=bearer(bob))).json()
    r = await client.post(
        f"/sandbox/phones/{alice.own}/scan", json={"qr": qr["qr"]}, headers=bearer(bob)
    )
    assert (r.status_code, r.json()) == (404, NOT_YOURS)

    # Bob's instance issues a code for Alice's number (the instance API does not tell who holds
    # a number), but no one can type it in: Bob does not hold the number, Alice not the instance.
    r = await client.post(
        bob_inst.url("getAuthorizationCode"), json={"phoneNumber": int(alice.own)}
    )
    assert r.status_code == 200, r.text
    code = r.json()["code"]
    r = await client.post(
        f"/sandbox/phones/{alice.own}/link", json={"code": code}, headers=bearer(bob)
    )
    assert (r.status_code, r.json()) == (404, NOT_YOURS)
    r = await client.post(
        f"/sandbox/phones/{alice.own}/link", json={"code": code}, headers=bearer(alice.token)
    )
    assert r.status_code == 404
    assert r.json() != NOT_YOURS  # Alice's own number: only the code is not hers

    r = await client.post(f"/sandbox/phones/{alice.own}/logout", headers=bearer(bob))
    assert (r.status_code, r.json()) == (404, NOT_YOURS)
    assert (await client.get(bob_inst.url("getStateInstance"))).json() == {
        "stateInstance": "notAuthorized"
    }
    await wait_for_state(client, alice.inst, "authorized")
    settings = (await client.get(alice.inst.url("getWaSettings"))).json()
    assert settings["phone"] == alice.own
    # The refused attempts used nothing up: Bob's instance links to a number of his own.
    r = await client.post(
        f"/sandbox/phones/{new_phone()}/scan", json={"qr": qr["qr"]}, headers=bearer(bob)
    )
    assert r.status_code == 200, r.text
    await wait_for_state(client, bob_inst, "authorized")


# --- the network between partners ---------------------------------------------------------------


async def test_messages_flow_between_partners(
    client: httpx.AsyncClient, make_partner: MakePartner, alice: Alice
) -> None:
    bob, bob_phone = await make_partner(), new_phone()
    assert (
        await client.get(f"/sandbox/phones/{bob_phone}/messages", headers=bearer(bob))
    ).json() == {"messages": []}

    # Alice's instance writes to Bob's number; Bob's phone sees it and reads it.
    sent = await send(
        client, alice.inst, "sendMessage", {"chatId": f"{bob_phone}@c.us", "message": "hi Bob"}
    )
    got = await wait_inbox(client, bob_phone, bob, 1)
    assert [(m["idMessage"], m["chatId"]) for m in got] == [(sent, f"{alice.own}@c.us")]
    r = await client.post(
        f"/sandbox/phones/{bob_phone}/read",
        json={"chatId": f"{alice.own}@c.us"},
        headers=bearer(bob),
    )
    assert r.json() == {"read": 1}
    await wait_outgoing(client, alice.inst, 1, status="read")

    # Bob's phone writes to Alice's instance's number; her instance receives it.
    await phone_sends(client, bob, bob_phone, alice.own, "hi Alice")
    assert "hi Alice" in await wait_incoming(client, alice.inst, "hi Alice")
    # Bob's number stays his: Alice's instance writing to it gave her no hold on it.
    r = await client.get(f"/sandbox/phones/{bob_phone}/messages", headers=bearer(alice.token))
    assert (r.status_code, r.json()) == (404, NOT_YOURS)


async def test_two_partners_taking_a_new_number_at_once_one_gets_it(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    tokens = [await make_partner(), await make_partner()]
    for _ in range(5):
        number = new_phone()
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/sandbox/phones/{number}/messages",
                    json={"chatId": f"{new_phone()}@c.us", "message": "mine"},
                    headers=bearer(token),
                )
                for token in tokens
            )
        )
        assert sorted(r.status_code for r in answers) == [200, 404], [r.text for r in answers]
        winner = [r.status_code for r in answers].index(200)
        for i, token in enumerate(tokens):
            r = await client.get(f"/sandbox/phones/{number}/messages", headers=bearer(token))
            assert r.status_code == (200 if i == winner else 404), r.text
