"""What the Z-API instance route tests share: an instance seen from both façades (Made), waits
on its status and a phone's inbox, GREEN-API views of it, and the keys Z-API answers with.

Every phone number is random: the sandbox network is shared by every test of the session.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.sending import eventually
from tests.support import Instance, authorize
from tests.zapi_client import ZapiInstance, ZapiPartner

Json = dict[str, Any]

ZAAP_ID = re.compile(r"^[0-9A-F]{32}$")
CLIENT_TOKEN = re.compile(r"^F[0-9a-f]{32}S$")
ISO_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
NOT_FOUND = {"error": "Instance not found"}
NOT_CONFIGURED = {"error": "your client-token is not configured"}
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


async def wait_status(made: Made, connected: bool) -> Json:
    """GET status once it shows ``connected``."""

    async def check() -> Json | None:
        data = await made.status()
        return data if data["connected"] is connected else None

    result: Json = await eventually(check, f"status connected={connected}")
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


# A few instance routes of each kind: (verb, action, body).
GUARDED: list[tuple[str, str, Json | None]] = [
    ("GET", "status", None),
    ("GET", "me", None),
    ("GET", "qr-code", None),
    ("PUT", "update-name", {"value": "guarded"}),
    ("PUT", "update-webhook-received", {"value": "https://hooks.example.com/g"}),
    ("POST", "send-text", {"phone": "5544999999999", "message": "guarded"}),
]
