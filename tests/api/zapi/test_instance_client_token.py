"""The account Client-Token on the Z-API instance routes, on a live server on both databases."""

from __future__ import annotations

import httpx

from tests.api.zapi.instances import (
    CLIENT_TOKEN,
    GUARDED,
    NOT_CONFIGURED,
    NOT_FOUND,
    MakeZapi,
    green_queue,
)
from tests.sending import bearer
from tests.support import wait_for_state

# --- Client-Token -----------------------------------------------------------------------------


async def enable_client_token(client: httpx.AsyncClient, partner_token: str) -> str:
    r = await client.post("/admin/client-token", headers=bearer(partner_token))
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data) == ["clientToken"]
    assert CLIENT_TOKEN.match(data["clientToken"]), data
    token: str = data["clientToken"]
    return token


async def test_client_token_guards_every_instance_of_the_account(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    sibling = await make_zapi(made.partner)
    stranger = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    token = await enable_client_token(client, made.partner.token)

    for inst in (made, sibling):
        for verb, action, body in GUARDED:
            r = await inst.call(verb, action, body)
            assert (r.status_code, r.json()) == (400, NOT_CONFIGURED), (verb, action)
            r = await inst.call(verb, action, body, headers={"Client-Token": "Fwrong"})
            assert (r.status_code, r.json()) == (
                403,
                {"error": "Client-Token Fwrong not allowed"},
            ), (verb, action)
    # Refused requests changed nothing.
    assert await green_queue(client, made.green) == (0, [])

    # An empty header is a missing one.
    r = await made.call("GET", "status", headers={"Client-Token": ""})
    assert (r.status_code, r.json()) == (400, NOT_CONFIGURED)

    # The partner token is no Client-Token.
    r = await made.call("GET", "status", headers={"Client-Token": made.partner.token})
    assert r.status_code == 403, r.text
    assert r.json() == {"error": f"Client-Token {made.partner.token} not allowed"}

    made.z.client_token = token
    for verb, action, body in GUARDED:
        r = await made.call(verb, action, body)
        assert r.status_code == 200, (verb, action, r.text)
    assert (await made.me())["name"] == "guarded"

    # Another partner's instances do not need it.
    for verb, action, body in GUARDED:
        r = await stranger.call(verb, action, body)
        assert r.status_code == 200, (verb, action, r.text)
        r = await stranger.call(verb, action, body, headers={"Client-Token": token})
        assert r.status_code == 200, (verb, action, r.text)


async def test_client_token_checked_after_the_instance_token(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await enable_client_token(client, made.partner.token)
    r = await client.get(f"/instances/{made.z.id}/token/{'0' * len(made.z.token)}/status")
    assert (r.status_code, r.json()) == (404, NOT_FOUND)


async def test_a_new_client_token_replaces_the_old_one(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    old = await enable_client_token(client, made.partner.token)
    new = await enable_client_token(client, made.partner.token)
    assert old != new
    r = await made.call("GET", "status", headers={"Client-Token": old})
    assert (r.status_code, r.json()) == (403, {"error": f"Client-Token {old} not allowed"})
    r = await made.call("GET", "status", headers={"Client-Token": new})
    assert r.status_code == 200, r.text


async def test_deleting_the_client_token_stops_requiring_it(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await enable_client_token(client, made.partner.token)
    assert (await made.call("GET", "me")).status_code == 400
    r = await client.delete("/admin/client-token", headers=bearer(made.partner.token))
    assert r.status_code == 200, r.text
    for verb, action, body in GUARDED:
        r = await made.call(verb, action, body)
        assert r.status_code == 200, (verb, action, r.text)


async def test_client_token_admin_needs_the_partner_token(client: httpx.AsyncClient) -> None:
    for verb in ("POST", "DELETE"):
        r = await client.request(verb, "/admin/client-token")
        assert r.status_code == 401, r.text
        r = await client.request(verb, "/admin/client-token", headers=bearer("gac.nope"))
        assert r.status_code == 401, r.text
