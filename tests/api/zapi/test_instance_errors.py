"""The error answers of the Z-API instance routes, on a live server on both databases."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest

from tests.api.zapi.instances import (
    GUARDED,
    NOT_FOUND,
    Json,
    MakeZapi,
    assert_error,
    green_queue,
)
from tests.support import LiveServer, wait_for_state

# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(("verb", "action", "body"), GUARDED)
async def test_wrong_token_or_unknown_id_is_not_found(
    client: httpx.AsyncClient, make_zapi: MakeZapi, verb: str, action: str, body: Json | None
) -> None:
    made = await make_zapi(name="untouched")
    other = await make_zapi()
    wrong_token = "0" * len(made.z.token)
    paths = [
        f"/instances/{made.z.id}/token/{wrong_token}",
        f"/instances/{made.z.id}/token/{made.z.token.upper()}",
        f"/instances/{made.z.id}/token/{other.z.token}",
        f"/instances/{other.z.id}/token/{made.z.token}",
        f"/instances/9{made.z.id}/token/{made.z.token}",
        f"/instances/1/token/{made.z.token}",
        f"/instances/abc/token/{made.z.token}",
        f"/instances/{'9' * 30}/token/{made.z.token}",
    ]
    if made.z.token.upper() == made.z.token:
        paths.remove(f"/instances/{made.z.id}/token/{made.z.token.upper()}")
    for base in paths:
        r = await client.request(verb, f"{base}/{action}", json=body)
        assert (r.status_code, r.json()) == (404, NOT_FOUND), (base, r.text)
    assert (await made.me())["name"] == "untouched"
    assert await green_queue(client, made.green) == (0, [])


@pytest.mark.parametrize("action", ["no-such-action", "status/extra", "qr-code/png", "send-texts"])
async def test_an_unknown_action_is_404(
    client: httpx.AsyncClient, make_zapi: MakeZapi, action: str
) -> None:
    made = await make_zapi()
    for verb in ("GET", "POST", "PUT"):
        r = await made.call(verb, action, {"value": "x"} if verb != "GET" else None)
        assert_error(r, 404)


@pytest.mark.parametrize(
    ("verb", "action"),
    [
        ("DELETE", "status"),
        ("POST", "status"),
        ("PUT", "me"),
        ("DELETE", "me"),
        ("GET", "send-text"),
        ("PUT", "send-text"),
        ("GET", "update-name"),
        ("DELETE", "update-name"),
        ("GET", "update-webhook-received"),
        ("PATCH", "update-every-webhooks"),
        ("DELETE", "disconnect"),
        ("POST", "device"),
    ],
)
async def test_a_wrong_method_is_405(
    client: httpx.AsyncClient, make_zapi: MakeZapi, verb: str, action: str
) -> None:
    made = await make_zapi(name="untouched")
    r = await made.call(verb, action)
    assert_error(r, 405)
    assert (await made.me())["name"] == "untouched"


@pytest.mark.parametrize(
    ("action", "key"),
    [
        ("update-name", "name"),
        ("update-webhook-received", "receivedCallbackUrl"),
        ("update-call-reject-message", "callRejectMessage"),
    ],
)
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_json_typed_is_415(
    client: httpx.AsyncClient, make_zapi: MakeZapi, action: str, key: str, content_type: str
) -> None:
    made = await make_zapi(name="untouched")
    before = await made.me()
    r = await made.call(
        "PUT",
        action,
        content=b'{"value": "https://hooks.example.com/plain"}',
        headers={"Content-Type": content_type},
    )
    assert_error(r, 415)
    assert (await made.me())[key] == before[key]


async def test_a_body_without_content_type_is_415(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi(name="untouched")
    r = await made.call("PUT", "update-name", content=b'{"value": "typeless"}')
    assert "content-type" not in r.request.headers
    assert_error(r, 415)
    assert (await made.me())["name"] == "untouched"


async def test_a_json_content_type_with_charset_is_accepted(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    r = await made.call(
        "PUT",
        "update-name",
        content=b'{"value": "charset"}',
        headers={"Content-Type": "application/json; charset=utf-8"},
    )
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["name"] == "charset"


@pytest.mark.parametrize(
    ("verb", "action"),
    [("PUT", "update-name"), ("POST", "send-text"), ("PUT", "update-every-webhooks")],
)
@pytest.mark.parametrize("raw", [b"{", b'{"value": "x",}', b"nope", b"\xff\xfe"])
async def test_invalid_json_is_400(
    client: httpx.AsyncClient, make_zapi: MakeZapi, verb: str, action: str, raw: bytes
) -> None:
    made = await make_zapi(name="untouched")
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.call(verb, action, content=raw, headers={"Content-Type": "application/json"})
    assert_error(r, 400)
    assert (await made.me())["name"] == "untouched"
    assert await green_queue(client, made.green) == (0, [])


@pytest.mark.parametrize("chunked", [False, True], ids=["sized", "chunked"])
@pytest.mark.parametrize(("verb", "action"), [("PUT", "update-name"), ("POST", "send-text")])
async def test_a_body_over_the_limit_is_413(
    client: httpx.AsyncClient,
    server: LiveServer,
    make_zapi: MakeZapi,
    verb: str,
    action: str,
    chunked: bool,
) -> None:
    made = await make_zapi(name="untouched")
    await wait_for_state(client, made.green, "notAuthorized")
    limit = server.settings.http.max_body_bytes
    filler = "x" * limit
    raw = orjson.dumps({"value": filler, "phone": "5544999999999", "message": filler})
    content: bytes | AsyncIterator[bytes] = raw
    if chunked:  # no Content-Length: the server must count as it reads

        async def chunks() -> AsyncIterator[bytes]:
            for i in range(0, len(raw), 65536):
                yield raw[i : i + 65536]

        content = chunks()
    r = await made.call(verb, action, content=content, headers={"Content-Type": "application/json"})
    assert_error(r, 413)
    assert (await made.me())["name"] == "untouched"
    assert await green_queue(client, made.green) == (0, [])
