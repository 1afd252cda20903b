"""Z-API instance lifecycle routes: status, QR, phone code, restart, restore-session,
disconnect, device, me and update-name, on a live server on both databases.
"""

from __future__ import annotations

import base64
import time

import httpx
import pytest

from tests.api.zapi.instances import (
    CALLBACK_KEYS,
    DAY_MS,
    FULLWIDTH,
    ISO_TIME,
    ME_KEYS,
    METHODS,
    PNG_MAGIC,
    MakeZapi,
    assert_error,
    connect,
    green_listing_item,
    new_phone,
    wait_status,
)
from tests.sending import bearer
from tests.support import wait_for_state

# --- status, QR, phone code -------------------------------------------------------------------


async def test_status_before_and_after_authorize(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    assert await made.status() == {
        "connected": False,
        "error": "You are not connected.",
        "smartphoneConnected": False,
    }
    phone = await connect(client, made)
    assert await made.status() == {
        "connected": True,
        "error": "You are already connected.",
        "smartphoneConnected": True,
    }
    assert (await made.me())["connected"] is True
    r = await made.z.get("device")
    assert r.json()["phone"] == phone


async def test_qr_code_is_the_payload_a_phone_scans(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.get("qr-code")
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data) == ["value"]
    payload = data["value"]
    assert isinstance(payload, str) and payload
    # The same text the sandbox says the instance shows now.
    shown = await client.get(
        f"/sandbox/instances/{made.z.id}/qr", headers=bearer(made.partner.token)
    )
    assert shown.json()["qr"] == payload

    phone = new_phone()
    r = await client.post(
        f"/sandbox/phones/{phone}/scan", json={"qr": payload}, headers=bearer(made.partner.token)
    )
    assert r.status_code == 200, r.text
    await wait_status(made, True)

    for action in ("qr-code", "qr-code/image"):
        r = await made.z.get(action)
        assert r.status_code == 200, r.text
        data = r.json()
        assert data["connected"] is True, data
        assert isinstance(data["error"], str) and data["error"], data
        assert "value" not in data


async def test_qr_code_image_is_a_png_data_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.get("qr-code/image")
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data) == ["value"]
    prefix = "data:image/png;base64,"
    assert data["value"].startswith(prefix)
    png = base64.b64decode(data["value"][len(prefix) :], validate=True)
    assert png.startswith(PNG_MAGIC)
    assert len(png) > 100


async def test_phone_code_links_the_phone_it_was_asked_for(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    phone = new_phone()
    r = await made.z.get(f"phone-code/{phone}")
    assert r.status_code == 200, r.text
    data = r.json()
    assert set(data) == {"code", "value"}
    assert data["code"] == data["value"]
    assert isinstance(data["code"], str) and data["code"]

    r = await client.post(
        f"/sandbox/phones/{phone}/link",
        json={"code": data["code"]},
        headers=bearer(made.partner.token),
    )
    assert r.status_code == 200, r.text
    await wait_status(made, True)
    r = await made.z.get("device")
    assert r.json()["phone"] == phone


@pytest.mark.parametrize(
    "phone", ["12ab", "123", "1234567890123456", "+79001234567", "7900 12", FULLWIDTH]
)
async def test_phone_code_rejects_a_bad_phone(
    client: httpx.AsyncClient, make_zapi: MakeZapi, phone: str
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.get(f"phone-code/{phone}")
    assert_error(r, 400)


async def test_phone_code_once_connected_is_an_error(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await connect(client, made)
    r = await made.z.get(f"phone-code/{new_phone()}")
    assert_error(r, 400)


# --- restart, restore-session, disconnect -----------------------------------------------------


@pytest.mark.parametrize("action", ["restart", "restore-session"])
async def test_restart_keeps_a_connected_instance_connected(
    client: httpx.AsyncClient, make_zapi: MakeZapi, action: str
) -> None:
    made = await make_zapi()
    phone = await connect(client, made)
    r = await made.z.get(action)
    assert r.status_code == 200, r.text
    assert r.json() == {"value": True}
    # Back without a new scan, linked to the same phone.
    await wait_for_state(client, made.green, "authorized")
    status = await wait_status(made, True)
    assert status["error"] == "You are already connected."
    r = await made.z.get("device")
    assert r.status_code == 200, r.text
    assert r.json()["phone"] == phone


@pytest.mark.parametrize("action", ["restart", "restore-session"])
async def test_restart_of_an_unconnected_instance(
    client: httpx.AsyncClient, make_zapi: MakeZapi, action: str
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.get(action)
    assert (r.status_code, r.json()) == (200, {"value": True})
    await wait_for_state(client, made.green, "notAuthorized")
    assert (await made.status())["connected"] is False


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_disconnect_unlinks_the_phone(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str
) -> None:
    made = await make_zapi()
    await connect(client, made)
    r = await made.call(method, "disconnect")
    assert r.status_code == 200, r.text
    assert r.json() == {"value": True}
    status = await wait_status(made, False)
    await wait_for_state(client, made.green, "notAuthorized")
    status = await made.status()
    assert status["connected"] is False
    assert status["error"] == "You are not connected."
    # Connecting again takes a new QR.
    r = await made.z.get("qr-code")
    assert r.status_code == 200, r.text
    assert isinstance(r.json().get("value"), str)
    assert_error(await made.z.get("device"), 400)


async def test_disconnect_of_an_unconnected_instance(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.get("disconnect")
    assert (r.status_code, r.json()) == (200, {"value": True})
    await wait_for_state(client, made.green, "notAuthorized")
    assert (await made.status())["connected"] is False


# --- device, me -------------------------------------------------------------------------------


async def test_device_needs_a_connection(client: httpx.AsyncClient, make_zapi: MakeZapi) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    assert_error(await made.z.get("device"), 400)


@pytest.mark.parametrize("business", [True, False])
async def test_device_shows_the_phone_and_the_create_options(
    client: httpx.AsyncClient, make_zapi: MakeZapi, business: bool
) -> None:
    made = await make_zapi(sessionName="Front desk", businessDevice=business)
    phone = await connect(client, made)
    r = await made.z.get("device")
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["phone"] == phone
    assert data["device"]["sessionName"] == "Front desk"
    assert isinstance(data["device"].get("device_model"), str)
    assert data["isBusiness"] is business
    assert data["originalDevice"] in (("smbi", "smba") if business else ("iphone", "android"))
    assert {"imgUrl", "about", "name", "sessionId"} <= set(data)


async def test_me_shows_every_documented_key(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    before = int(time.time() * 1000)
    made = await make_zapi(name="my shop")
    data = await made.me()
    assert set(data) >= ME_KEYS, ME_KEYS - set(data)
    assert data["id"] == made.z.id
    assert isinstance(data["id"], str)
    assert data["token"] == made.z.token
    assert data["name"] == "my shop"
    assert isinstance(data["due"], int) and not isinstance(data["due"], bool)
    assert data["due"] == made.created["due"]
    # A trial: about two days from now.
    assert before + DAY_MS < data["due"] < before + 3 * DAY_MS
    assert data["paymentStatus"] == "TRIAL"
    assert data["connected"] is False
    assert isinstance(data["created"], str) and ISO_TIME.match(data["created"])
    for key in CALLBACK_KEYS:
        assert data[key] == "", key
    assert data["initialDataCallbackUrl"] == ""
    assert data["receiveCallbackSentByMe"] is False
    assert data["callRejectAuto"] is False
    assert data["autoReadMessage"] is False
    assert isinstance(data["callRejectMessage"], str)


async def test_me_shows_the_create_options(client: httpx.AsyncClient, make_zapi: MakeZapi) -> None:
    urls = {key: f"https://hooks.example.com/{key}" for key in CALLBACK_KEYS}
    made = await make_zapi(
        callRejectAuto=True,
        callRejectMessage="busy now",
        autoReadMessage=True,
        **urls,
    )
    data = await made.me()
    assert {key: data[key] for key in CALLBACK_KEYS} == urls
    assert data["callRejectAuto"] is True
    assert data["callRejectMessage"] == "busy now"
    assert data["autoReadMessage"] is True


# --- update-name ------------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
async def test_update_name_shows_in_me_and_in_the_green_listing(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str
) -> None:
    made = await make_zapi(name="old name")
    r = await made.call(method, "update-name", {"value": "x"})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["name"] == "x"
    assert (await green_listing_item(client, made.green))["name"] == "x"


@pytest.mark.parametrize(
    "body",
    [
        {"value": ""},
        {"value": "a" * 256},
        {"value": 5},
        {"value": None},
        {"value": ["x"]},
        {"value": "a\nb"},
        {"value": "a\u202eb"},
        {"value": "a\u2067b"},
        {"value": "a\x80b"},
        {},
        None,
        ["x"],
        "x",
    ],
    ids=[
        "empty",
        "too-long",
        "number",
        "null",
        "list",
        "control",
        "bidi-override",
        "bidi-isolate",
        "c1-control",
        "missing",
        "no-body",
        "array",
        "string",
    ],
)
async def test_update_name_rejects_bad_values_and_changes_nothing(
    client: httpx.AsyncClient, make_zapi: MakeZapi, body: object
) -> None:
    made = await make_zapi(name="kept")
    if body is None:
        r = await made.call("PUT", "update-name")
    else:
        r = await made.call("PUT", "update-name", body)
    assert_error(r, 400)
    assert (await made.me())["name"] == "kept"
    assert (await green_listing_item(client, made.green))["name"] == "kept"


async def test_update_name_takes_the_longest_name(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    r = await made.z.put("update-name", {"value": "n" * 255})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["name"] == "n" * 255
