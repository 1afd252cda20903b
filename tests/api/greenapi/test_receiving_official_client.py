"""The official GREEN-API Python client drains a live fleetgate's notification queue."""

from __future__ import annotations

import asyncio
import secrets
import threading
from typing import Any

import httpx
from whatsapp_api_client_python.API import GreenAPI

from tests.support import Instance, LiveServer, MakeInstance, authorize, wait_for_state

# Bounds so that a misbehaving server cannot hang the suite (the client's own timeout is 180 s).
LOOP_DEADLINE_S = 20.0


async def count(client: httpx.AsyncClient, inst: Instance) -> int:
    r = await client.get(inst.url("getWebhooksCount"))
    assert r.status_code == 200, r.text
    n: int = r.json()["count"]
    return n


async def reboot_and_settle(client: httpx.AsyncClient, inst: Instance, state: str) -> None:
    r = await client.get(inst.url("reboot"))
    assert r.json() == {"isReboot": True}
    await wait_for_state(client, inst, state)


async def queued_instance(
    client: httpx.AsyncClient, make_instance: MakeInstance, *, phone: str | None = None
) -> tuple[Instance, list[str]]:
    """An instance with stateWebhook on and a known backlog of state notifications."""
    inst = await make_instance(stateWebhook="yes")
    await wait_for_state(client, inst, "notAuthorized")
    await reboot_and_settle(client, inst, "notAuthorized")
    states = ["notAuthorized", "starting", "notAuthorized"]
    if phone is not None:
        await authorize(client, inst, phone)
        states.append("authorized")
    assert await count(client, inst) == len(states)
    return inst, states


async def test_official_client_receive_and_delete(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst, _ = await queued_instance(client, make_instance)
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    call = asyncio.to_thread

    got = await call(api.receiving.receiveNotification, 5)
    assert got.code == 200
    first = got.data
    assert first is not None
    assert first["body"]["typeWebhook"] == "stateInstanceChanged"
    assert first["body"]["stateInstance"] == "notAuthorized"
    assert first["body"]["instanceData"]["idInstance"] == inst.id
    # Unacknowledged: the same head again (default receiveTimeout, as the polling loop calls it).
    assert (await call(api.receiving.receiveNotification)).data == first
    assert (await call(api.receiving.deleteNotification, first["receiptId"])).data == {
        "result": True
    }
    assert (await call(api.receiving.deleteNotification, first["receiptId"])).data == {
        "result": False
    }

    # The async variants; deleteNotificationAsync sends DELETE .../{token}/ with a JSON number.
    second = (await api.receiving.receiveNotificationAsync(5)).data
    assert second is not None
    assert second["body"]["stateInstance"] == "starting"
    assert second["receiptId"] > first["receiptId"]
    assert (await api.receiving.deleteNotificationAsync(second["receiptId"])).data == {
        "result": True
    }
    assert (await api.receiving.deleteNotificationAsync(second["receiptId"])).data == {
        "result": False
    }

    assert (await call(api.queues.getWebhooksCount)).data == {"count": 1, "\u0441ount": 1}
    assert (await call(api.queues.clearWebhooksQueue)).data == {"isCleared": True, "reason": ""}
    assert (await api.queues.getWebhooksCountAsync()).data["count"] == 0
    again = (await api.queues.clearWebhooksQueueAsync()).data
    assert again["isCleared"] is False and again["reason"] == "Too many requests"


class Collector:
    """An onEvent handler that stops the client's polling loop once it has ``expected`` events."""

    def __init__(self, api: GreenAPI, expected: int) -> None:
        self.api = api
        self.expected = expected
        self.events: list[tuple[str, dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, type_webhook: str, body: dict[str, Any]) -> None:
        with self.lock:
            self.events.append((type_webhook, body))
            if len(self.events) >= self.expected:
                # The loop still acknowledges this event, then sees it should stop.
                self.api.webhooks.stopReceivingNotifications()

    def summary(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(t, b["stateInstance"]) for t, b in self.events]


async def test_official_client_polling_loop_drains_the_queue_in_order(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    phone = "7900" + "".join(secrets.choice("0123456789") for _ in range(7))
    inst, states = await queued_instance(client, make_instance, phone=phone)
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    collector = Collector(api, expected=len(states))

    loop = asyncio.create_task(
        asyncio.to_thread(api.webhooks.startReceivingNotifications, collector)
    )
    try:
        await asyncio.wait_for(asyncio.shield(loop), LOOP_DEADLINE_S)
    finally:
        # If it did not stop by itself, make it: it ends after its current (<= 5 s) long-poll.
        api.webhooks.stopReceivingNotifications()
        await asyncio.wait_for(loop, 10)

    assert collector.summary() == [("stateInstanceChanged", s) for s in states]
    last = collector.events[-1][1]
    assert last["instanceData"] == {
        "idInstance": inst.id,
        "wid": f"{phone}@c.us",
        "typeInstance": "whatsapp",
    }
    assert api.session.headers["Connection"] == "close"  # the loop ended normally
    assert await count(client, inst) == 0  # every event was acknowledged


async def test_official_client_async_polling_loop_drains_the_queue_in_order(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    # startReceivingNotificationsAsync acknowledges with deleteNotificationAsync (body quirk).
    inst, states = await queued_instance(client, make_instance)
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    collector = Collector(api, expected=len(states))

    loop = asyncio.create_task(api.webhooks.startReceivingNotificationsAsync(collector))
    try:
        await asyncio.wait_for(asyncio.shield(loop), LOOP_DEADLINE_S)
    finally:
        api.webhooks.stopReceivingNotifications()
        await asyncio.wait_for(loop, 10)

    assert collector.summary() == [("stateInstanceChanged", s) for s in states]
    assert await count(client, inst) == 0
