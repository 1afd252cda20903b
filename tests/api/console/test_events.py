"""The console's server-sent-events streams: a full picture first, then changes as they happen.

Each test reads the live stream of a real server and acts on the instance through the public
APIs (a sandbox phone scans the QR, a message arrives); the stream must report it without the
test asking again.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import update

from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.storage.tables import SandboxPairingRow
from tests.support import (
    Instance,
    LiveServer,
    MakeInstance,
    MakePartner,
    authorize,
    until,
    wait_for_state,
)

WAIT_S = 15.0


class Events:
    """The events of one open stream, read as they come."""

    def __init__(self, response: httpx.Response) -> None:
        self.response = response
        self._lines = response.aiter_lines()

    async def next(self) -> tuple[str, Any]:
        name, data = "message", []
        async with asyncio.timeout(WAIT_S):
            async for line in self._lines:
                if line.startswith("event: "):
                    name = line[7:]
                elif line.startswith("data: "):
                    data.append(line[6:])
                elif line == "" and data:
                    return name, orjson.loads("\n".join(data))
        raise AssertionError("the stream ended")

    async def ended(self) -> None:
        """Until the server ends the stream (events on the way are passed over)."""
        async with asyncio.timeout(WAIT_S):
            async for _line in self._lines:
                pass

    async def until(self, name: str, check: Any = lambda _d: True) -> Any:
        """Events are read until one named ``name`` whose data passes ``check``."""
        while True:
            got, data = await self.next()
            if got == name and check(data):
                return data


@asynccontextmanager
async def stream(client: httpx.AsyncClient, path: str, token: str) -> AsyncIterator[Events]:
    headers = {"Authorization": f"Bearer {token}"}
    async with client.stream("GET", path, headers=headers) as response:
        assert response.status_code == 200, await response.aread()
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-store"
        yield Events(response)


def _phone(instance: Instance) -> str:
    return "7901" + str(instance.id)[-7:]


async def test_the_list_stream_reports_states_then_each_change(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    partner = await make_partner()
    first, second = await make_instance(partner), await make_instance(partner)
    for one in (first, second):
        await wait_for_state(client, one, "notAuthorized")
    path = f"/console/api/events?ids={first.id},{second.id}"
    async with stream(client, path, partner) as events:
        opening = {(await events.next())[1]["id"] for _ in range(2)}
        assert opening == {first.id, second.id}

        await authorize(client, first, _phone(first))
        authorized = await events.until("state", lambda d: d["state"] == "authorized")
        assert authorized == {"id": first.id, "state": "authorized", "phone": _phone(first)}

        r = await client.delete(
            f"/console/api/instances/{second.id}", headers={"Authorization": f"Bearer {partner}"}
        )
        assert r.status_code == 200
        gone = await events.until("state", lambda d: d["id"] == second.id)
        assert gone == {"id": second.id, "state": None, "phone": ""}


async def test_another_partners_ids_are_reported_as_absent(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    theirs = await make_instance()
    async with stream(client, f"/console/api/events?ids={theirs.id}", await make_partner()) as ev:
        assert await ev.next() == ("state", {"id": theirs.id, "state": None, "phone": ""})


async def test_the_instance_stream_shows_the_qr_until_linked_and_queue_counts(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    instance = await make_instance(incomingWebhook="yes")
    await wait_for_state(client, instance, "notAuthorized")
    path = f"/console/api/instances/{instance.id}/events"
    async with stream(client, path, instance.partner_token) as events:
        assert await events.next() == (
            "state",
            {"id": instance.id, "state": "notAuthorized", "phone": ""},
        )
        assert await events.next() == ("queues", {"notifications": 0, "sends": 0})
        qr = await events.until("qr")
        assert qr["image"].startswith("iVBORw0KGgo")  # a base64 PNG
        assert qr["expiresMs"] > 0

        phone = _phone(instance)
        await authorize(client, instance, phone)
        state = await events.until("state", lambda d: d["state"] == "authorized")
        assert state["phone"] == phone
        assert await events.until("qr") == {"image": None, "expiresMs": None}

        # A contact writes: the notification queue grows, and the stream says so.
        auth = {"Authorization": f"Bearer {instance.partner_token}"}
        r = await client.post(
            "/sandbox/phones/79990001122/messages",
            json={"chatId": f"{phone}@c.us", "message": "hello"},
            headers=auth,
        )
        assert r.status_code == 200, r.text
        counts = await events.until("queues", lambda d: d["notifications"] > 0)
        assert counts["sends"] == 0


async def test_the_stream_refuses_a_wrong_token_and_foreign_or_malformed_ids(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    instance = await make_instance()
    wrong = await client.get(
        f"/console/api/instances/{instance.id}/events", headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401
    assert wrong.json() == {"error": "Unauthorized"}
    stranger = {"Authorization": f"Bearer {await make_partner()}"}
    foreign = await client.get(f"/console/api/instances/{instance.id}/events", headers=stranger)
    assert foreign.status_code == 404
    assert foreign.json() == {"error": "Instance not found"}


@pytest.mark.parametrize(
    ("ids", "error"),
    [
        ("", "ids must name 1 to 100 instances, separated by commas"),
        (
            ",".join(str(i) for i in range(101)),
            "ids must name 1 to 100 instances, separated by commas",
        ),
        ("12,x", "ids must be instance ids (digits)"),
        ("1" * 19, "ids must be instance ids (digits)"),
    ],
)
async def test_bad_ids_are_a_400(
    client: httpx.AsyncClient, make_partner: MakePartner, ids: str, error: str
) -> None:
    r = await client.get(
        "/console/api/events",
        params={"ids": ids},
        headers={"Authorization": f"Bearer {await make_partner()}"},
    )
    assert r.status_code == 400
    assert r.json() == {"error": error}


async def test_a_stream_ends_once_its_partner_token_is_revoked(
    client: httpx.AsyncClient, ctx: Context, make_instance: MakeInstance
) -> None:
    instance = await make_instance()
    path = f"/console/api/instances/{instance.id}/events"
    async with stream(client, path, instance.partner_token) as events:
        await events.until("queues")
        async with ctx.db.transaction() as session:
            partner = await partners.authenticate_partner(
                session=session, token=instance.partner_token
            )
            await partners.revoke_partner(session=session, name=partner.name)
        await events.ended()  # within the re-check pause, not at the end of its lifetime
    again = await client.get(path, headers={"Authorization": f"Bearer {instance.partner_token}"})
    assert again.status_code == 401


async def test_a_closed_stream_stops_listening(
    client: httpx.AsyncClient, server: LiveServer, make_instance: MakeInstance
) -> None:
    """A page that goes away leaves no listener behind on the server's signals."""
    signals = server.app.state.ctx.signals
    listening = signals._listeners["instance"]  # the set the stream adds itself to
    before = len(listening)
    instance = await make_instance()
    path = f"/console/api/events?ids={instance.id}"
    async with stream(client, path, instance.partner_token) as events:
        await events.until("state")
        assert len(listening) == before + 1
    await until(lambda: _settled(listening, before), "the stream's listener removed")


async def _settled(listening: set[object], size: int) -> bool:
    return len(listening) == size


async def test_the_stream_sends_a_new_qr_each_time_the_current_one_expires(
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
    path = f"/console/api/instances/{instance.id}/events"
    async with stream(client, path, instance.partner_token) as events:
        shown = await events.until("qr")
        rotated = await events.until("qr")
    assert rotated["image"] != shown["image"]
    assert rotated["expiresMs"] > shown["expiresMs"]
    now = (await client.get(f"/sandbox/instances/{instance.id}/qr", headers=auth)).json()
    assert now["qr"] != first["qr"]
    assert now["expiresMs"] == rotated["expiresMs"]
