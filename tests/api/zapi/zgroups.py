"""Helpers of the Z-API chats, groups and contacts tests: the sandbox phones' side of a
group, and the checks every route's answer gets."""

from __future__ import annotations

import base64
from typing import Any

import httpx

from tests.sending import bearer
from tests.zapi_callbacks import Linked

Json = dict[str, Any]
# The smallest file the media store takes for a JPEG (it tells kinds by their first bytes).
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(64)
    + b"\xff\xd9"
)
JPEG_URI = "data:image/jpeg;base64," + base64.b64encode(JPEG).decode()


def g_us(group: str) -> str:
    """A Z-API group id (``<id>-group``) as the sandbox routes take it (``<id>@g.us``)."""
    return group.removesuffix("-group") + "@g.us"


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def value(r: httpx.Response) -> bool:
    body = ok(r)
    assert set(body) == {"value"}, body
    result: bool = body["value"]
    return result


def refused(r: httpx.Response, status: int = 400) -> str:
    """A Z-API error: the status and ``{"error": text}``."""
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"} and isinstance(body["error"], str), body
    text: str = body["error"]
    return text


async def phone_groups(client: httpx.AsyncClient, token: str, phone: str) -> dict[str, Json]:
    """The groups a virtual phone is in, by ``<id>@g.us``, as it sees them."""
    r = await client.get(f"/sandbox/phones/{phone}/groups", headers=bearer(token))
    assert r.status_code == 200, r.text
    return {g["groupId"]: g for g in r.json()["groups"]}


async def phone_acts(
    client: httpx.AsyncClient, token: str, phone: str, group: str, action: str, body: Json
) -> Json:
    """A virtual phone changes a group (name, add, remove, promote, demote, leave, settings,
    join); the sandbox's ``{"done", "reason"}``."""
    r = await client.post(
        f"/sandbox/phones/{phone}/groups/{g_us(group)}/{action}", json=body, headers=bearer(token)
    )
    assert r.status_code == 200, r.text
    answer: Json = r.json()
    return answer


async def phone_creates_group(
    client: httpx.AsyncClient, token: str, phone: str, name: str, members: list[str]
) -> Json:
    r = await client.post(
        f"/sandbox/phones/{phone}/groups",
        json={"groupName": name, "chatIds": [f"{m}@c.us" for m in members]},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    made: Json = r.json()
    return made


def members(seen: Json) -> dict[str, bool]:
    """A group's members as getGroupData shows them: phone -> admin."""
    return {p["id"].removesuffix("@c.us"): p["isAdmin"] for p in seen["participants"]}


def zmembers(meta: Json) -> dict[str, bool]:
    """A group's members as Z-API's group-metadata shows them: phone -> admin."""
    return {p["phone"]: p["isAdmin"] for p in meta["participants"]}


async def metadata(inst: Linked, group: str) -> Json:
    found: Json = ok(await inst.zapi.group_metadata(group))
    return found
