"""What the Z-API partner route tests share: the listing's keys and how to read it, Z-API errors,
month ends.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from tests.zapi_client import ZapiInstance, ZapiPartner

NewPartner = Callable[[], Awaitable[ZapiPartner]]
Json = dict[str, Any]

ENVELOPE_KEYS = ["total", "totalPage", "pageSize", "page", "content"]
CALLBACK_KEYS = [
    "deliveryCallbackUrl",
    "receivedCallbackUrl",
    "disconnectedCallbackUrl",
    "messageStatusCallbackUrl",
    "receivedAndDeliveryCallbackUrl",
    "presenceChatCallbackUrl",
    "connectedCallbackUrl",
    "receivedStatusCallbackUrl",
]
ITEM_KEYS = [
    "token",
    "tenant",
    "created",
    "due",
    "paymentStatus",
    *CALLBACK_KEYS,
    "phoneConnected",
    "whatsappConnected",
    "middleware",
    "name",
    "id",
]
# Every callback URL create accepts (receivedStatusCallbackUrl has no setter).
SETTABLE_CALLBACKS = [k for k in CALLBACK_KEYS if k != "receivedStatusCallbackUrl"]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
HOUR_MS = 3_600_000
NOT_FOUND = {"error": "Instance not found"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def month_end(ms: int) -> int:
    """The first millisecond of the UTC month after the one ``ms`` is in."""
    t = datetime.fromtimestamp(ms / 1000, UTC)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000


def assert_error(r: httpx.Response, status: int, *words: str) -> str:
    """``r`` is ``{"error": text}`` with ``status``, and the text mentions each word."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert list(body) == ["error"], body
    text = body["error"]
    assert isinstance(text, str) and text, body
    for word in words:
        assert word.lower() in text.lower(), (word, text)
    return text


async def listed(partner: ZapiPartner, page: int = 1, page_size: int = 200, **q: str) -> Json:
    r = await partner.list(page, page_size, **q)
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


async def ids_listed(partner: ZapiPartner, **q: str) -> list[str]:
    return [i["id"] for i in (await listed(partner, 1, 200, **q))["content"]]


async def item_of(partner: ZapiPartner, inst: ZapiInstance) -> Json:
    items: list[Json] = (await listed(partner))["content"]
    (item,) = [i for i in items if i["id"] == inst.id]
    return item


async def me(inst: ZapiInstance) -> Json:
    r = await inst.get("me")
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


async def payment_status(partner: ZapiPartner, inst: ZapiInstance) -> str:
    status: str = (await item_of(partner, inst))["paymentStatus"]
    return status


def on_demand(inst: ZapiInstance, action: str, token: str | None = None) -> str:
    return f"/instances/{inst.id}/token/{token or inst.token}/integrator/on-demand/{action}"


async def green_delete(client: httpx.AsyncClient, partner: ZapiPartner, inst: ZapiInstance) -> None:
    """Delete through the GREEN-API façade, which has no Z-API deletion rules."""
    r = await client.post(
        f"/partner/deleteInstanceAccount/{partner.token}", json={"idInstance": int(inst.id)}
    )
    assert r.status_code == 200, r.text
