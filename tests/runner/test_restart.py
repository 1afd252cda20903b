"""A restarted server brings every instance back to its state, without a new scan."""

from __future__ import annotations

from pathlib import Path

import httpx

from fleetgate.context import Context
from fleetgate.services import partners
from tests.support import Instance, authorize, live_server, make_settings, wait_for_state


async def _create(client: httpx.AsyncClient, partner_token: str) -> Instance:
    body = (await client.post(f"/partner/createInstance/{partner_token}", json={})).json()
    return Instance(body["idInstance"], body["apiTokenInstance"], partner_token)


async def test_restart_restores_authorized_and_unauthorized_instances(
    fresh_database_url: str, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path / "data", fresh_database_url)
    with live_server(settings) as first:
        ctx = Context.from_settings(settings)
        async with ctx.db.transaction() as session:
            _, partner_token = await partners.create_partner(session=session, name="restart")
        await ctx.db.dispose()
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            linked = await _create(client, partner_token)
            waiting = await _create(client, partner_token)
            await authorize(client, linked, "79007770000")
            await wait_for_state(client, waiting, "notAuthorized")
            history_before = (await client.get(linked.url("getStateInstanceHistory"))).json()

    with live_server(settings) as second:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            await wait_for_state(client, linked, "authorized")
            await wait_for_state(client, waiting, "notAuthorized")
            wa = (await client.get(linked.url("getWaSettings"))).json()
            assert wa["phone"] == "79007770000"
            # The new runner runs the session again: QR for the waiting one, none for the linked.
            assert (await client.get(waiting.url("qr"))).json()["type"] == "qrCode"
            assert (await client.get(linked.url("qr"))).json()["type"] == "alreadyLogged"
            # Nothing changed, so nothing was recorded: no flapping through notAuthorized.
            history_after = (await client.get(linked.url("getStateInstanceHistory"))).json()
            assert history_after == history_before
