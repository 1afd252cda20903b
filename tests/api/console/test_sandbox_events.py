"""The console's sandbox page stream: it tells the page when its phone's lists or its picked
instance's QR may have changed, so the page reads them again instead of on a timer.

Each test reads the live stream of a real server while the phone's world changes through the
public APIs (an instance writes to it, a group it is in changes, the instance's QR rotates).
"""

from __future__ import annotations

import httpx
from sqlalchemy import update

from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.engines.sandbox.network import PHONE_CHANNEL
from fleetgate.services import partners
from fleetgate.services.sandbox_phones import NOT_YOURS
from fleetgate.storage.tables import SandboxPairingRow
from tests.api.console.test_events import _settled, stream
from tests.support import LiveServer, MakeInstance, MakePartner, authorize, until, wait_for_state


def _path(phone: str = "", instance: int | None = None) -> str:
    query = [f"phone={phone}"] if phone else []
    if instance is not None:
        query.append(f"instance={instance}")
    return "/console/api/sandbox/events?" + "&".join(query)


async def test_a_message_reaching_the_phone_is_an_event(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    instance = await make_instance()
    await authorize(client, instance, "79011000001")
    contact = "79011000002"
    async with stream(client, _path(contact), instance.partner_token) as events:
        assert await events.next() == ("phone", {"phone": contact})  # read everything first
        r = await client.post(
            instance.url("sendMessage"), json={"chatId": f"{contact}@c.us", "message": "hi"}
        )
        assert r.status_code == 200, r.text
        assert await events.next() == ("phone", {"phone": contact})
    auth = {"Authorization": f"Bearer {instance.partner_token}"}
    got = await client.get(f"/sandbox/phones/{contact}/conversation", headers=auth)
    assert [m["text"] for m in got.json()["messages"]] == ["hi"]


async def test_a_change_of_a_group_of_the_phone_is_an_event(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    partner = await make_partner()
    auth = {"Authorization": f"Bearer {partner}"}
    owner, member = "79012000001", "79012000002"
    async with stream(client, _path(member), partner) as events:
        assert await events.next() == ("phone", {"phone": member})
        made = await client.post(
            f"/sandbox/phones/{owner}/groups",
            json={"groupName": "team", "chatIds": [f"{member}@c.us"]},
            headers=auth,
        )
        assert made.status_code == 200, made.text
        assert await events.next() == ("phone", {"phone": member})
        group = made.json()["chatId"]
        renamed = await client.post(
            f"/sandbox/phones/{owner}/groups/{group}/name", json={"groupName": "crew"}, headers=auth
        )
        assert renamed.json()["done"] is True, renamed.text
        assert await events.next() == ("phone", {"phone": member})
    listed = await client.get(f"/sandbox/phones/{member}/groups", headers=auth)
    assert [g["subject"] for g in listed.json()["groups"]] == ["crew"]


async def test_a_status_of_a_contact_is_an_event(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    partner = await make_partner()
    auth = {"Authorization": f"Bearer {partner}"}
    phone, contact = "79016000001", "79016000002"
    async with stream(client, _path(phone), partner) as events:
        assert await events.next() == ("phone", {"phone": phone})
        wrote = await client.post(
            f"/sandbox/phones/{contact}/messages",
            json={"chatId": f"{phone}@c.us", "message": "hi"},
            headers=auth,
        )
        assert wrote.status_code == 200, wrote.text
        assert await events.next() == ("phone", {"phone": phone})
        posted = await client.post(
            f"/sandbox/phones/{contact}/statuses", json={"message": "away"}, headers=auth
        )
        assert posted.status_code == 200, posted.text
        assert await events.next() == ("phone", {"phone": phone})
    seen = await client.get(f"/sandbox/phones/{phone}/statuses", headers=auth)
    assert [s["text"] for s in seen.json()["statuses"]] == ["away"]


async def test_the_picked_instance_brings_its_state_and_each_new_qr(
    client: httpx.AsyncClient, ctx: Context, make_instance: MakeInstance
) -> None:
    instance = await make_instance()
    await wait_for_state(client, instance, "notAuthorized")
    auth = {"Authorization": f"Bearer {instance.partner_token}"}
    first = (await client.get(f"/sandbox/instances/{instance.id}/qr", headers=auth)).json()
    # The sandbox QR lives 20 s; this one is made to expire in one, so the test need not wait.
    async with ctx.db.transaction() as session:
        await session.execute(
            update(SandboxPairingRow)
            .where(SandboxPairingRow.id_instance == instance.id)
            .values(qr_expires_ms=now_ms() + 1000)
        )
    async with stream(client, _path(instance=instance.id), instance.partner_token) as events:
        assert await events.next() == (
            "state",
            {"id": instance.id, "state": "notAuthorized", "phone": ""},
        )
        shown = await events.until("qr")
        rotated = await events.until("qr")
    assert shown["image"].startswith("iVBORw0KGgo")  # a base64 PNG
    assert rotated["image"] != shown["image"]
    now = (await client.get(f"/sandbox/instances/{instance.id}/qr", headers=auth)).json()
    assert now["qr"] != first["qr"]
    assert now["expiresMs"] == rotated["expiresMs"]


async def test_another_partners_phone_or_instance_and_bad_input_are_refused(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    theirs = await make_instance()
    taken = "79013000001"
    own = {"Authorization": f"Bearer {theirs.partner_token}"}
    claimed = await client.get(f"/sandbox/phones/{taken}/conversation", headers=own)
    assert claimed.status_code == 200
    stranger = {"Authorization": f"Bearer {await make_partner()}"}
    phone = await client.get(_path(taken), headers=stranger)
    assert (phone.status_code, phone.json()) == (404, {"error": NOT_YOURS})
    instance = await client.get(_path(instance=theirs.id), headers=stranger)
    assert (instance.status_code, instance.json()) == (404, {"error": "Instance not found"})
    for path, error in [
        ("/console/api/sandbox/events", "name a phone, an instance, or both"),
        (_path("12x"), "phone must be 7 to 15 digits with the country code"),
    ]:
        bad = await client.get(path, headers=stranger)
        assert (bad.status_code, bad.json()) == (400, {"error": error})
    wrong = await client.get(_path(taken), headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401


async def test_the_stream_ends_once_the_token_is_revoked(
    client: httpx.AsyncClient, ctx: Context, make_partner: MakePartner
) -> None:
    token = await make_partner()
    async with stream(client, _path("79014000001"), token) as events:
        await events.until("phone")
        async with ctx.db.transaction() as session:
            partner = await partners.authenticate_partner(session=session, token=token)
            await partners.revoke_partner(session=session, name=partner.name)
        await events.ended()  # within the re-check pause, not at the end of its lifetime
    again = await client.get(_path("79014000001"), headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401


async def test_a_closed_stream_stops_listening(
    client: httpx.AsyncClient, server: LiveServer, make_instance: MakeInstance
) -> None:
    """A page that goes away leaves no listener behind on the server's signals."""
    listening = server.app.state.ctx.signals._listeners[PHONE_CHANNEL]
    before = len(listening)
    instance = await make_instance()
    path = _path("79015000001", instance.id)
    async with stream(client, path, instance.partner_token) as events:
        await events.until("phone")
        assert len(listening) == before + 1
    await until(lambda: _settled(listening, before), "the stream's listener removed")
