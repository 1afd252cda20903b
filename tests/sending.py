"""GREEN-API sending helpers over HTTP: virtual phones and their inboxes, send methods, the
send queue, the outgoing journal and notifications (shared by the messaging and sandbox tests).

Every virtual phone number is random: the network is shared by every test of the session.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx

from tests.support import Instance

T = TypeVar("T")
Json = dict[str, Any]

ID_MESSAGE = re.compile(r"^[0-9A-F]{20}$")
CYRILLIC_COUNT = "\u0441ount"  # the docs' key: Cyrillic es (U+0441), then Latin "ount"
CHAT_ID_ERROR = "chatId must be <phone digits>@c.us or <group id>@g.us"
# Every wait in this module is bounded by this (receiveNotification may add its 5 s long-poll).
WAIT_S = 10.0


def new_phone() -> str:
    """A random 11-digit number no test has used (the sandbox network is shared)."""
    return "79" + "".join(secrets.choice("0123456789") for _ in range(9))


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def eventually(
    check: Callable[[], Awaitable[T | None]], what: str, timeout: float = WAIT_S
) -> T:
    """Poll ``check`` until it returns something truthy, within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    last: T | None = None
    while loop.time() < deadline:
        last = await check()
        if last:
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"{what}: not reached within {timeout} s (last {last!r})")


async def inbox(
    client: httpx.AsyncClient, phone: str, partner_token: str, limit: int | None = None
) -> list[Json]:
    """What the virtual phone received, oldest first."""
    params = {} if limit is None else {"limit": limit}
    r = await client.get(
        f"/sandbox/phones/{phone}/messages", params=params, headers=bearer(partner_token)
    )
    assert r.status_code == 200, r.text
    messages: list[Json] = r.json()["messages"]
    return messages


async def wait_inbox(
    client: httpx.AsyncClient, phone: str, partner_token: str, n: int, timeout: float = WAIT_S
) -> list[Json]:
    """The phone's inbox once it holds at least ``n`` messages."""

    async def enough() -> list[Json] | None:
        got = await inbox(client, phone, partner_token)
        return got if len(got) >= n else None

    return await eventually(enough, f"{n} messages in the inbox of {phone}", timeout)


async def wait_outgoing(
    client: httpx.AsyncClient, inst: Instance, n: int, status: str | None = None
) -> list[Json]:
    """lastOutgoingMessages once it lists ``n`` messages (all with ``status``, if given).

    A message reaches the phone before the runner journals it as sent, and its receipts come
    back after that.
    """

    async def ready() -> list[Json] | None:
        r = await client.get(inst.url("lastOutgoingMessages"))
        assert r.status_code == 200, r.text
        items: list[Json] = r.json()
        done = len(items) >= n and all(status in (None, i["statusMessage"]) for i in items)
        return items if done else None

    return await eventually(ready, f"{n} {status or 'sent'} messages in the outgoing journal")


async def phone_sends(
    client: httpx.AsyncClient, partner_token: str, phone: str, to_phone: str, text: str
) -> str:
    """A virtual phone writes to a number; the idMessage."""
    r = await client.post(
        f"/sandbox/phones/{phone}/messages",
        json={"chatId": f"{to_phone}@c.us", "message": text},
        headers=bearer(partner_token),
    )
    assert r.status_code == 200, r.text
    id_message: str = r.json()["idMessage"]
    return id_message


async def post(client: httpx.AsyncClient, inst: Instance, method: str, body: object) -> Any:
    """A POST that must succeed; its JSON answer."""
    r = await client.post(inst.url(method), json=body)
    assert r.status_code == 200, r.text
    return r.json()


async def send(client: httpx.AsyncClient, inst: Instance, method: str, body: Json) -> str:
    """A send method's idMessage (checked to look like one)."""
    data: Json = await post(client, inst, method, body)
    assert list(data) == ["idMessage"], data
    id_message: str = data["idMessage"]
    assert ID_MESSAGE.match(id_message), id_message
    return id_message


async def queue_count(client: httpx.AsyncClient, inst: Instance) -> int:
    return await counted(client, inst, "getMessagesCount")


async def counted(client: httpx.AsyncClient, inst: Instance, method: str) -> int:
    """A count method's answer (getMessagesCount, getWebhooksCount): both keys agree."""
    r = await client.get(inst.url(method))
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data) == ["count", CYRILLIC_COUNT]
    assert data["count"] == data[CYRILLIC_COUNT]
    n: int = data["count"]
    return n


async def show_queue(client: httpx.AsyncClient, inst: Instance) -> list[Json]:
    r = await client.get(inst.url("showMessagesQueue"))
    assert r.status_code == 200, r.text
    items: list[Json] = r.json()
    return items


async def notifications_until(
    client: httpx.AsyncClient,
    inst: Instance,
    done: Callable[[list[Json]], bool],
    timeout: float = WAIT_S,
) -> list[Json]:
    """Receive and acknowledge notifications until ``done(bodies so far)``; the bodies."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen: list[Json] = []
    while not done(seen):
        if loop.time() > deadline:
            kinds = [(b["typeWebhook"], b.get("status")) for b in seen]
            raise AssertionError(f"instance {inst.id}: notifications incomplete: {kinds}")
        r = await client.get(inst.url("receiveNotification"), params={"receiveTimeout": 5})
        assert r.status_code == 200, r.text
        item = r.json()
        if item is None:
            continue
        seen.append(item["body"])
        d = await client.delete(f"{inst.url('deleteNotification')}/{item['receiptId']}")
        assert d.json() == {"result": True}, d.text
    return seen


def statuses_of(bodies: list[Json], id_message: str) -> list[str]:
    return [
        b["status"]
        for b in bodies
        if b["typeWebhook"] == "outgoingMessageStatus" and b["idMessage"] == id_message
    ]
