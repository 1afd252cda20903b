"""The /sandbox page a person uses to link instances and write as a contact."""

from __future__ import annotations

import re

import httpx


async def test_page_is_served_and_uses_existing_endpoints(client: httpx.AsyncClient) -> None:
    r = await client.get("/sandbox")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    for element in (
        'id="token"',
        'id="instances"',
        'id="qr"',
        'id="scan"',
        'id="send"',
        'id="inbox"',
    ):
        assert element in html
    # Every API path the page's script calls is one the server routes (no dead links).
    called = set(re.findall(r"`(/[a-zA-Z]+[^`?]*)", html))
    assert called, "the page calls no endpoint"
    for prefix in (
        "/partner/getInstances/",
        "/sandbox/instances/",
        "/sandbox/phones/",
        "/waInstance",
    ):
        assert any(path.startswith(prefix) for path in called), prefix
    spec = (await client.get("/openapi.json")).json()["paths"]
    assert "/partner/getInstances/{partnerToken}" in spec
    assert "/sandbox/phones/{phone}/scan" in spec
    assert "/sandbox/phones/{phone}/messages" in spec
    assert "/sandbox/instances/{idInstance}/qr" in spec
