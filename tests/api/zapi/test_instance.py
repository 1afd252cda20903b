"""Z-API instance routes ``/instances/{id}/token/{token}/...``, on a live server, both databases.

Lifecycle (status, QR, phone code, restart, disconnect, device, me), the settings setters (name,
per-event webhooks, options) and how they meet the GREEN-API settings, send-text, the account
Client-Token and the error answers. Every phone number is random: the sandbox network is shared
by every test of the session.
"""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest

from tests.support import Instance, LiveServer, MakePartner, authorize, wait_for_state
from tests.zapi_client import ZapiInstance, ZapiPartner

Json = dict[str, Any]

ZAAP_ID = re.compile(r"^[0-9A-F]{32}$")
CLIENT_TOKEN = re.compile(r"^F[0-9a-f]{32}S$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOT_FOUND = {"error": "Instance not found"}
NOT_CONFIGURED = {"error": "your client-token is not configured"}
WAIT_S = 10.0
DAY_MS = 24 * 3600 * 1000

# The keys of GET me in the Z-API docs' table (fleetgate may add more).
ME_KEYS = {
    "id",
    "token",
    "name",
    "due",
    "connected",
    "paymentStatus",
    "created",
    "connectedCallbackUrl",
    "deliveryCallbackUrl",
    "disconnectedCallbackUrl",
    "messageStatusCallbackUrl",
    "presenceChatCallbackUrl",
    "receivedCallbackUrl",
    "receiveCallbackSentByMe",
    "callRejectAuto",
    "callRejectMessage",
    "autoReadMessage",
    "initialDataCallbackUrl",
}
CALLBACK_KEYS = (
    "receivedCallbackUrl",
    "receivedAndDeliveryCallbackUrl",
    "deliveryCallbackUrl",
    "messageStatusCallbackUrl",
    "disconnectedCallbackUrl",
    "connectedCallbackUrl",
    "presenceChatCallbackUrl",
)
# Setter route -> the me key it sets (the last two are the docs' aliases).
URL_SETTERS = {
    "update-webhook-received": "receivedCallbackUrl",
    "update-webhook-received-delivery": "receivedAndDeliveryCallbackUrl",
    "update-webhook-delivery": "deliveryCallbackUrl",
    "update-webhook-message-status": "messageStatusCallbackUrl",
    "update-webhook-disconnected": "disconnectedCallbackUrl",
    "update-webhook-connected": "connectedCallbackUrl",
    "update-webhook-chat-presence": "presenceChatCallbackUrl",
    "update-webhook-receive": "receivedCallbackUrl",
    "update-webhook-status": "messageStatusCallbackUrl",
}
BAD_URLS: list[object] = [
    "not a url",
    "ftp://hooks.example.com/x",
    "https://",
    "https://hooks.example.com:0/x",
    "https://hooks.example.com/a b",
    "https://hooks.example.com/" + "a" * 2048,
    "https://user@hooks.example.com/x",
    "https://user:pw@hooks.example.com/x",
    42,
    None,
    True,
]
METHODS = ["PUT", "POST"]
# Digits, but not ASCII ones: no phone number.
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "5544999999999")
ARABIC_INDIC = "".join(chr(0x0660 + int(d)) for d in "5544999999999")


def new_phone() -> str:
    """A random 11-digit number no other test uses."""
    return "7900" + "".join(secrets.choice("0123456789") for _ in range(7))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class Made:
    """One instance created through the Z-API partner route, seen from both façades."""

    z: ZapiInstance
    green: Instance
    partner: ZapiPartner
    created: Json

    async def call(
        self, method: str, action: str, body: object = None, **kwargs: Any
    ) -> httpx.Response:
        """Any verb on one of this instance's routes, with its Client-Token if set."""
        headers = {**self.z.headers, **kwargs.pop("headers", {})}
        if body is not None:
            kwargs["json"] = body
        return await self.z.http.request(method, self.z.path(action), headers=headers, **kwargs)

    async def me(self) -> Json:
        r = await self.z.get("me")
        assert r.status_code == 200, r.text
        data: Json = r.json()
        return data

    async def status(self) -> Json:
        r = await self.z.get("status")
        assert r.status_code == 200, r.text
        data: Json = r.json()
        return data


MakeZapi = Callable[..., Awaitable[Made]]


@pytest.fixture
def make_zapi(client: httpx.AsyncClient, make_partner: MakePartner) -> MakeZapi:
    """Factory: a Z-API instance (of a new partner unless one is given) with create options."""

    async def make(
        partner: ZapiPartner | None = None, name: str = "zapi test", **options: Any
    ) -> Made:
        partner = partner or ZapiPartner(client, await make_partner())
        r = await partner.create(name, **options)
        assert r.status_code == 200, r.text
        body = r.json()
        z = ZapiInstance(client, body["id"], body["token"])
        return Made(z, Instance(int(body["id"]), body["token"], partner.token), partner, body)

    return make


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    """Poll ``check`` until it returns something truthy, within WAIT_S."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    last = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {WAIT_S} s (last {last!r})")


async def wait_status(made: Made, connected: bool) -> Json:
    """GET status once it shows ``connected``."""

    async def check() -> Json | None:
        data = await made.status()
        return data if data["connected"] is connected else None

    result: Json = await eventually(check, f"status connected={connected}")
    return result


async def inbox(client: httpx.AsyncClient, phone: str, partner_token: str) -> list[Json]:
    r = await client.get(f"/sandbox/phones/{phone}/messages", headers=bearer(partner_token))
    assert r.status_code == 200, r.text
    messages: list[Json] = r.json()["messages"]
    return messages


async def wait_inbox(
    client: httpx.AsyncClient, phone: str, partner_token: str, n: int
) -> list[Json]:
    async def enough() -> list[Json] | None:
        got = await inbox(client, phone, partner_token)
        return got if len(got) >= n else None

    result: list[Json] = await eventually(enough, f"{n} messages in the inbox of {phone}")
    return result


async def green_queue(client: httpx.AsyncClient, inst: Instance) -> tuple[int, list[Json]]:
    """GREEN getMessagesCount and showMessagesQueue of the instance."""
    count = await client.get(inst.url("getMessagesCount"))
    queue = await client.get(inst.url("showMessagesQueue"))
    assert count.status_code == queue.status_code == 200, (count.text, queue.text)
    return count.json()["count"], queue.json()


async def green_settings(client: httpx.AsyncClient, inst: Instance) -> Json:
    r = await client.get(inst.url("getSettings"))
    assert r.status_code == 200, r.text
    data: Json = r.json()
    return data


async def green_listing_item(client: httpx.AsyncClient, inst: Instance) -> Json:
    r = await client.get(f"/partner/getInstances/{inst.partner_token}")
    assert r.status_code == 200, r.text
    items = [i for i in r.json() if i["idInstance"] == inst.id]
    assert len(items) == 1, items
    item: Json = items[0]
    return item


async def connect(client: httpx.AsyncClient, made: Made) -> str:
    """Link a new virtual phone to the instance by QR; the phone."""
    phone = new_phone()
    await authorize(client, made.green, phone)
    return phone


def assert_error(r: httpx.Response, status: int) -> None:
    assert r.status_code == status, (r.status_code, r.text)
    data = r.json()
    assert list(data) == ["error"], data
    assert isinstance(data["error"], str) and data["error"], data


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


# --- webhook setters --------------------------------------------------------------------------


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("route", "key"), list(URL_SETTERS.items()))
async def test_webhook_setter_sets_clears_and_refuses_bad_urls(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str, route: str, key: str
) -> None:
    made = await make_zapi()
    url = f"https://hooks.example.com/{route}?n=1"
    r = await made.call(method, route, {"value": url})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert data[key] == url
    assert {k: data[k] for k in CALLBACK_KEYS if k != key} == dict.fromkeys(
        (k for k in CALLBACK_KEYS if k != key), ""
    )

    for bad in BAD_URLS:
        r = await made.call(method, route, {"value": bad})
        assert r.status_code == 400, (bad, r.text)
        assert_error(r, 400)
    assert_error(await made.call(method, route, {}), 400)
    assert (await made.me())[key] == url

    r = await made.call(method, route, {"value": ""})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())[key] == ""


async def test_webhook_setters_each_set_their_own_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    expected: dict[str, str] = {}
    for route, key in URL_SETTERS.items():
        if route in ("update-webhook-receive", "update-webhook-status"):
            continue
        url = f"https://hooks.example.com:8443/{key}"
        r = await made.z.set_webhook(route.removeprefix("update-webhook-"), url)
        assert (r.status_code, r.json()) == (200, {"value": True})
        expected[key] = url
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == expected


@pytest.mark.parametrize("method", METHODS)
async def test_update_every_webhooks_sets_all_and_notify_sent_by_me(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str
) -> None:
    made = await make_zapi()
    url = "https://hooks.example.com/all"
    r = await made.call(method, "update-every-webhooks", {"value": url})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, url)
    assert data["receiveCallbackSentByMe"] is False

    other = "https://hooks.example.com/other"
    r = await made.call(method, "update-every-webhooks", {"value": other, "notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, other)
    assert data["receiveCallbackSentByMe"] is True

    for bad in [
        {"value": "not a url"},
        {"value": 1},
        {"value": other, "notifySentByMe": "yes"},
        {},
    ]:
        assert_error(await made.call(method, "update-every-webhooks", bad), 400)
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, other)
    assert data["receiveCallbackSentByMe"] is True

    r = await made.call(method, "update-every-webhooks", {"value": ""})
    assert (r.status_code, r.json()) == (200, {"value": True})
    data = await made.me()
    assert {k: data[k] for k in CALLBACK_KEYS} == dict.fromkeys(CALLBACK_KEYS, "")


@pytest.mark.parametrize("method", METHODS)
async def test_update_notify_sent_by_me_needs_a_received_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi, method: str
) -> None:
    made = await make_zapi()
    assert_error(await made.call(method, "update-notify-sent-by-me", {"notifySentByMe": True}), 400)
    assert (await made.me())["receiveCallbackSentByMe"] is False

    await made.z.set_webhook("received", "https://hooks.example.com/received")
    r = await made.call(method, "update-notify-sent-by-me", {"notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["receiveCallbackSentByMe"] is True

    for bad in [{"notifySentByMe": "true"}, {"notifySentByMe": 1}, {}, {"value": True}]:
        assert_error(await made.call(method, "update-notify-sent-by-me", bad), 400)
    assert (await made.me())["receiveCallbackSentByMe"] is True

    r = await made.call(method, "update-notify-sent-by-me", {"notifySentByMe": False})
    assert (r.status_code, r.json()) == (200, {"value": False})
    assert (await made.me())["receiveCallbackSentByMe"] is False


async def test_update_every_webhooks_cannot_notify_sent_by_me_without_a_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    # The rule of update-notify-sent-by-me: "sent by me" goes to a received URL, so one
    # must be set; clearing every URL while asking for it is refused the same way.
    made = await make_zapi()
    r = await made.z.put("update-every-webhooks", {"value": "", "notifySentByMe": True})
    assert_error(r, 400)
    assert (await made.me())["receiveCallbackSentByMe"] is False


async def test_update_notify_sent_by_me_takes_a_received_delivery_url(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await made.z.set_webhook("received-delivery", "https://hooks.example.com/rd")
    r = await made.z.put("update-notify-sent-by-me", {"notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())["receiveCallbackSentByMe"] is True


# (route, a good value, the me key it shows in, a bad value)
OPTION_SETTERS = [
    ("update-call-reject-auto", True, "callRejectAuto", "yes"),
    ("update-call-reject-message", "call me later", "callRejectMessage", "a" * 1001),
    ("update-auto-read-message", True, "autoReadMessage", 1),
    ("update-auto-read-status", True, "autoReadStatus", None),
]


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(("route", "value", "key", "bad"), OPTION_SETTERS)
async def test_option_setters(
    client: httpx.AsyncClient,
    make_zapi: MakeZapi,
    method: str,
    route: str,
    value: object,
    key: str,
    bad: object,
) -> None:
    made = await make_zapi()
    r = await made.call(method, route, {"value": value})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())[key] == value

    assert_error(await made.call(method, route, {"value": bad}), 400)
    assert_error(await made.call(method, route, {}), 400)
    assert (await made.me())[key] == value

    off: object = "" if isinstance(value, str) else False
    r = await made.call(method, route, {"value": off})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await made.me())[key] == off


# --- one settings model behind both façades ---------------------------------------------------


async def test_green_settings_show_through_zapi_me(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    url = "https://green.example.com/hook"
    r = await client.post(
        made.green.url("setSettings"),
        json={"webhookUrl": url, "incomingWebhook": "yes", "markIncomingMessagesReaded": "yes"},
    )
    assert (r.status_code, r.json()) == (200, {"saveSettings": True})
    data = await made.me()
    assert data["receivedCallbackUrl"] == url
    assert data["autoReadMessage"] is True

    # An own received URL wins over the GREEN one; cleared, the GREEN one shows again.
    await made.z.set_webhook("received", "https://own.example.com/r")
    assert (await made.me())["receivedCallbackUrl"] == "https://own.example.com/r"
    await made.z.set_webhook("received", "")
    assert (await made.me())["receivedCallbackUrl"] == url

    # The GREEN URL counts as a received URL for notify-sent-by-me.
    r = await made.z.put("update-notify-sent-by-me", {"notifySentByMe": True})
    assert (r.status_code, r.json()) == (200, {"value": True})

    # Turning the GREEN switch off hides it again.
    r = await client.post(made.green.url("setSettings"), json={"incomingWebhook": "no"})
    assert r.status_code == 200, r.text
    assert (await made.me())["receivedCallbackUrl"] == ""


async def test_zapi_settings_show_through_green(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi(autoReadMessage=True)
    assert (await green_settings(client, made.green))["markIncomingMessagesReaded"] == "yes"

    r = await made.z.put("update-auto-read-message", {"value": False})
    assert (r.status_code, r.json()) == (200, {"value": True})
    assert (await green_settings(client, made.green))["markIncomingMessagesReaded"] == "no"
    assert (await made.me())["autoReadMessage"] is False

    r = await made.z.put("update-auto-read-message", {"value": True})
    assert r.status_code == 200, r.text
    assert (await green_settings(client, made.green))["markIncomingMessagesReaded"] == "yes"

    r = await made.z.put("update-name", {"value": "renamed by zapi"})
    assert r.status_code == 200, r.text
    assert (await green_listing_item(client, made.green))["name"] == "renamed by zapi"


# --- send-text --------------------------------------------------------------------------------


async def test_send_text_answers_ids_and_reaches_the_phone(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    own, to = await connect(client, made), new_phone()
    r = await made.z.send_text(to, "hello from z-api")
    assert r.status_code == 200, r.text
    data = r.json()
    assert {"zaapId", "messageId", "id"} <= set(data)
    assert ZAAP_ID.match(data["zaapId"]), data
    assert isinstance(data["messageId"], str) and data["messageId"]
    assert data["id"] == data["messageId"]

    got = await wait_inbox(client, to, made.partner.token, 1)
    assert len(got) == 1
    assert got[0]["idMessage"] == data["messageId"]
    assert got[0]["chatId"] == f"{own}@c.us"
    assert got[0]["text"] == "hello from z-api"

    # A second send gets other ids.
    r = await made.z.send_text(to, "again")
    again = r.json()
    assert again["messageId"] != data["messageId"]
    assert again["zaapId"] != data["zaapId"]


async def test_send_text_to_a_group_is_queued(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.send_text("120363423529374305-group", "hi all")
    assert r.status_code == 200, r.text
    data = r.json()
    assert ZAAP_ID.match(data["zaapId"])
    assert data["id"] == data["messageId"]
    count, queue = await green_queue(client, made.green)
    assert count == 1
    assert [m["messageID"] for m in queue] == [data["messageId"]]
    assert queue[0]["body"]["chatId"] == "120363423529374305@g.us"
    assert queue[0]["body"]["textMessageData"]["textMessage"] == "hi all"


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "12ab", "message": "hi"},
        {"phone": "", "message": "hi"},
        {"phone": "+5544999999999", "message": "hi"},
        {"phone": "5544 99999999", "message": "hi"},
        {"phone": "abc-group", "message": "hi"},
        {"phone": FULLWIDTH, "message": "hi"},
        {"phone": ARABIC_INDIC, "message": "hi"},
        {"phone": FULLWIDTH + "-group", "message": "hi"},
        {"phone": FULLWIDTH + "@c.us", "message": "hi"},
        {"phone": 5544999999999, "message": "hi"},
        {"phone": "5544999999999", "message": ""},
        {"phone": "5544999999999"},
        {"message": "hi"},
        {"phone": "5544999999999", "message": "hi", "delayMessage": 0},
        {"phone": "5544999999999", "message": "hi", "delayMessage": 16},
        {"phone": "5544999999999", "message": "hi", "delayMessage": "2"},
        {"phone": "5544999999999", "message": "hi", "delayMessage": True},
        {"phone": "5544999999999", "message": "hi", "delayMessage": 2.5},
        {"phone": "5544999999999", "message": "hi", "delayTyping": 16},
        {"phone": "5544999999999", "message": "hi", "editMessageId": "3EB0C431C26A1916E1C3"},
        {},
    ],
    ids=[
        "letters",
        "empty-phone",
        "plus",
        "space",
        "bad-group",
        "fullwidth",
        "arabic-indic",
        "fullwidth-group",
        "fullwidth-chat-id",
        "number-phone",
        "empty-message",
        "no-message",
        "no-phone",
        "delay-0",
        "delay-16",
        "delay-string",
        "delay-bool",
        "delay-float",
        "typing-16",
        "edit",
        "empty-body",
    ],
)
async def test_send_text_rejects_bad_bodies_and_queues_nothing(
    client: httpx.AsyncClient, make_zapi: MakeZapi, body: Json
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    assert_error(await made.z.post("send-text", body), 400)
    assert await green_queue(client, made.green) == (0, [])


@pytest.mark.parametrize(
    "options",
    [
        {"delayMessage": 1},
        {"delayMessage": 15},
        {"delayTyping": 0},
        {"delayTyping": 15},
        {"delayMessage": None, "editMessageId": None},
    ],
)
async def test_send_text_takes_delays_in_range(
    client: httpx.AsyncClient, make_zapi: MakeZapi, options: Json
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    for target in ("5544999999999", "5544999999999@c.us"):
        r = await made.z.send_text(target, "in range", **options)
        assert r.status_code == 200, r.text
    count, queue = await green_queue(client, made.green)
    assert count == 2
    assert {m["body"]["chatId"] for m in queue} == {"5544999999999@c.us"}


async def test_send_text_delay_message_spaces_the_sends(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await connect(client, made)
    to = new_phone()
    first = await made.z.send_text(to, "one", delayMessage=2)
    second = await made.z.send_text(to, "two", delayMessage=2)
    assert first.status_code == second.status_code == 200, (first.text, second.text)
    got = await wait_inbox(client, to, made.partner.token, 2)
    assert [m["text"] for m in got] == ["one", "two"]
    gap_ms = got[1]["timestampMs"] - got[0]["timestampMs"]
    assert gap_ms >= 1900, gap_ms


async def test_send_text_without_queueing_while_disconnected(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi(disableEnqueueWhenDisconnected=True)
    await wait_for_state(client, made.green, "notAuthorized")
    assert_error(await made.z.send_text(new_phone(), "lost"), 400)
    assert await green_queue(client, made.green) == (0, [])

    # Connected, it sends as usual.
    await connect(client, made)
    to = new_phone()
    r = await made.z.send_text(to, "now")
    assert r.status_code == 200, r.text
    await wait_inbox(client, to, made.partner.token, 1)


async def test_send_text_queues_while_disconnected_by_default(
    client: httpx.AsyncClient, make_zapi: MakeZapi
) -> None:
    made = await make_zapi()
    await wait_for_state(client, made.green, "notAuthorized")
    r = await made.z.send_text("5544999999999", "later")
    assert r.status_code == 200, r.text
    count, queue = await green_queue(client, made.green)
    assert count == 1
    assert queue[0]["messageID"] == r.json()["messageId"]


# --- Client-Token -----------------------------------------------------------------------------


async def enable_client_token(client: httpx.AsyncClient, partner_token: str) -> str:
    r = await client.post("/admin/client-token", headers=bearer(partner_token))
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data) == ["clientToken"]
    assert CLIENT_TOKEN.match(data["clientToken"]), data
    token: str = data["clientToken"]
    return token


# A few instance routes of each kind: (verb, action, body).
GUARDED: list[tuple[str, str, Json | None]] = [
    ("GET", "status", None),
    ("GET", "me", None),
    ("GET", "qr-code", None),
    ("PUT", "update-name", {"value": "guarded"}),
    ("PUT", "update-webhook-received", {"value": "https://hooks.example.com/g"}),
    ("POST", "send-text", {"phone": "5544999999999", "message": "guarded"}),
]


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
