"""Z-API callback helpers over HTTP: instances with callback URLs, bodies a receiver got
(shared by the Z-API callback and media tests)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import httpx

from tests.receiver import Receiver
from tests.sending import new_phone
from tests.support import Instance, authorize
from tests.zapi_client import ZapiInstance, ZapiPartner

Json = dict[str, Any]


@dataclass
class Linked:
    """A Z-API instance, the same instance on the GREEN-API paths, and its account number."""

    zapi: ZapiInstance
    green: Instance
    phone: str


async def new_instance(
    http: httpx.AsyncClient, partner_token: str, **options: Any
) -> tuple[ZapiInstance, Instance]:
    zapi = await ZapiPartner(http, partner_token).new_instance("callbacks", **options)
    return zapi, Instance(int(zapi.id), zapi.token, partner_token)


async def hook(zapi: ZapiInstance, kind: str, url: str) -> None:
    """Set one callback URL (kind as in ``update-webhook-{kind}``)."""
    r = await zapi.set_webhook(kind, url)
    assert (r.status_code, r.json()) == (200, {"value": True}), r.text


async def linked(
    http: httpx.AsyncClient, partner_token: str, hooks: dict[str, str], **options: Any
) -> Linked:
    """A new instance with these callback URLs set before it is linked to a new phone."""
    zapi, green = await new_instance(http, partner_token, **options)
    for kind, url in hooks.items():
        await hook(zapi, kind, url)
    phone = new_phone()
    await authorize(http, green, phone)
    return Linked(zapi, green, phone)


async def wait_body(
    receiver: Receiver, name: str, match: dict[str, Any], timeout: float = 15.0
) -> Json:
    """The first body at ``name`` whose keys include ``match`` (bounded wait)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for got in receiver.of(name):
            body: Json = got.body
            if all(body.get(k) == v for k, v in match.items()):
                return body
        await asyncio.sleep(0.02)
    seen = [r.body for r in receiver.of(name, ok_only=False)]
    raise AssertionError(f"{name}: no body with {match} within {timeout} s; got {seen}")
