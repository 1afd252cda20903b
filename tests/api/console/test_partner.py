"""The console's partner route: who is signed in, and whether the Client-Token is on."""

from __future__ import annotations

import httpx

from tests.support import MakePartner


async def test_the_partner_route_follows_the_client_token_switch(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    auth = {"Authorization": f"Bearer {await make_partner()}"}
    r = await client.get("/console/api/partner", headers=auth)
    assert r.status_code == 200
    assert r.json()["clientToken"] is False
    assert r.json()["name"].startswith("p")
    assert (await client.post("/admin/client-token", headers=auth)).status_code == 200
    assert (await client.get("/console/api/partner", headers=auth)).json()["clientToken"] is True
    assert (await client.delete("/admin/client-token", headers=auth)).status_code == 200
    assert (await client.get("/console/api/partner", headers=auth)).json()["clientToken"] is False


async def test_the_partner_route_needs_the_partner_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/console/api/partner", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized"}
    assert (await client.get("/console/api/partner")).status_code == 401
