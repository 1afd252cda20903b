"""GREEN-API notification queue methods, against a live server on both databases."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from sqlalchemy import select, update

from fleetgate.context import Context
from fleetgate.storage.signals import RESYNC_CHANNEL
from fleetgate.storage.tables import InstanceRow, NotificationRow
from tests.factories import queue_states
from tests.sending import counted
from tests.support import Instance, LiveServer, MakeInstance, authorize, until, wait_for_state

BODY_KEYS = ["typeWebhook", "instanceData", "timestamp", "stateInstance"]
RECEIPT_ERROR = {"code": 400, "description": "Parameter receiptId must be a Number"}


def random_phone() -> str:
    return "7900" + "".join(secrets.choice("0123456789") for _ in range(7))


async def receive(
    client: httpx.AsyncClient, inst: Instance, timeout: int | str = 5
) -> httpx.Response:
    # The HTTP timeout outlasts the longest receiveTimeout (60 s).
    return await client.get(
        inst.url("receiveNotification"), params={"receiveTimeout": timeout}, timeout=90
    )


def _resync_listeners(server: LiveServer) -> frozenset[object]:
    # Each long poll waits on a signals.waiter, which listens on the re-sync channel for as
    # long as one wait lasts; the server has no public count of its parked polls.
    listeners = server.app.state.ctx.signals._listeners.get(RESYNC_CHANNEL, ())
    return frozenset(listeners)


async def parked(server: LiveServer, before: frozenset[object], poll: asyncio.Task[Any]) -> None:
    """Until ``poll`` (started after ``before`` was taken) has found its queue empty.

    Its first wait begins, then ends (without a signal, at its re-check): by then the first
    read of the queue came back empty, and the poll goes on waiting.
    """

    async def first_wait() -> frozenset[object]:
        deadline = time.monotonic() + 15
        while not (new := _resync_listeners(server) - before):
            assert time.monotonic() < deadline, "the long poll never reached the server"
            await asyncio.sleep(0.01)
        return new

    first = await first_wait()

    async def first_wait_over() -> bool:
        return not first & _resync_listeners(server)

    await until(first_wait_over, "the long poll's first wait ended")
    assert not poll.done(), poll.result().text


async def receive_one(client: httpx.AsyncClient, inst: Instance) -> dict[str, Any]:
    """The queue head (which must be there)."""
    r = await receive(client, inst)
    assert r.status_code == 200, r.text
    data: dict[str, Any] | None = r.json()
    assert data is not None, "the queue was unexpectedly empty"
    return data


async def delete(client: httpx.AsyncClient, inst: Instance, receipt: object) -> httpx.Response:
    return await client.delete(f"{inst.url('deleteNotification')}/{receipt}")


async def count(client: httpx.AsyncClient, inst: Instance) -> int:
    return await counted(client, inst, "getWebhooksCount")


async def clear(client: httpx.AsyncClient, inst: Instance) -> dict[str, Any]:
    r = await client.delete(inst.url("clearWebhooksQueue"))
    assert r.status_code == 200, r.text
    data: dict[str, Any] = r.json()
    return data


async def reboot(client: httpx.AsyncClient, inst: Instance) -> None:
    r = await client.get(inst.url("reboot"))
    assert r.status_code == 200, r.text
    assert r.json() == {"isReboot": True}


async def rows(ctx: Context, id_instance: int) -> list[str]:
    """Every notification row of the instance, whatever its status."""
    async with ctx.db.reading() as session:
        found = await session.scalars(
            select(NotificationRow.body)
            .where(NotificationRow.id_instance == id_instance)
            .order_by(NotificationRow.id)
        )
        return list(found)


def state_body(inst: Instance, state: str, timestamp: object, wid: str = "") -> dict[str, Any]:
    return {
        "typeWebhook": "stateInstanceChanged",
        "instanceData": {"idInstance": inst.id, "wid": wid, "typeInstance": "whatsapp"},
        "timestamp": timestamp,
        "stateInstance": state,
    }


@pytest.fixture
def refused_url() -> Iterator[str]:
    """A loopback URL nothing listens on: webhook deliveries to it fail and are retried later."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))  # bound but never listening: connections are refused
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/hook"


# --- receiveNotification -------------------------------------------------------------------


async def test_receive_serves_the_head_until_acknowledged_then_the_next_in_order(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(stateWebhook="yes")
    await wait_for_state(client, inst, "notAuthorized")

    r = await receive(client, inst)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    first = r.json()
    assert list(first) == ["receiptId", "body"]
    assert type(first["receiptId"]) is int
    body = first["body"]
    assert list(body) == BODY_KEYS
    assert list(body["instanceData"]) == ["idInstance", "wid", "typeInstance"]
    assert body == state_body(inst, "notAuthorized", body["timestamp"])
    assert type(body["timestamp"]) is int
    assert abs(body["timestamp"] - time.time()) < 60

    # Not acknowledged: served again, byte for byte.
    again = await receive(client, inst)
    assert again.content == r.content

    await reboot(client, inst)  # queues "starting", then the engine's state again
    await wait_for_state(client, inst, "notAuthorized")
    assert await count(client, inst) == 3
    assert await receive_one(client, inst) == first  # the head is still the unacknowledged one

    assert (await delete(client, inst, first["receiptId"])).json() == {"result": True}
    second = await receive_one(client, inst)
    assert second["receiptId"] > first["receiptId"]
    assert second["body"] == state_body(inst, "starting", second["body"]["timestamp"])
    assert (await delete(client, inst, second["receiptId"])).json() == {"result": True}
    third = await receive_one(client, inst)
    assert third["receiptId"] > second["receiptId"]
    assert third["body"] == state_body(inst, "notAuthorized", third["body"]["timestamp"])
    assert (await delete(client, inst, third["receiptId"])).json() == {"result": True}
    assert await count(client, inst) == 0


async def test_authorized_notification_carries_the_linked_wid(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(stateWebhook="yes")
    phone = random_phone()
    await authorize(client, inst, phone)
    got = []
    for _ in range(2):
        item = await receive_one(client, inst)
        assert (await delete(client, inst, item["receiptId"])).json() == {"result": True}
        got.append(item["body"])
    assert got[0] == state_body(inst, "notAuthorized", got[0]["timestamp"])
    assert got[1] == state_body(inst, "authorized", got[1]["timestamp"], wid=f"{phone}@c.us")
    assert list(got[1]) == BODY_KEYS


async def test_directly_queued_notifications_come_out_fifo(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()  # stateWebhook "no": the server itself queues nothing
    states = [f"s{i}" for i in range(5)]
    ids = await queue_states(ctx, inst, states[:3])
    ids += await queue_states(ctx, inst, states[3:])
    assert ids == sorted(ids)
    seen = []
    for _ in states:
        item = await receive_one(client, inst)
        assert (await delete(client, inst, item["receiptId"])).json() == {"result": True}
        seen.append((item["receiptId"], item["body"]["stateInstance"]))
    assert seen == list(zip(ids, states, strict=True))
    assert await count(client, inst) == 0


async def test_receive_timeout_out_of_range_or_not_an_integer_is_400(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    await queue_states(ctx, inst, ["notAuthorized"])  # even with something to hand out
    for bad in ["4", "61", "x", "0", "-5", "5.5", "1e1", "\u0665"]:  # last: Arabic-Indic 5
        r = await receive(client, inst, bad)
        assert r.status_code == 400, bad
        body = r.json()
        assert list(body) == ["code", "description"], bad
        assert body["code"] == 400, bad
        assert "receiveTimeout" in body["description"], bad
    assert await count(client, inst) == 1


async def test_receive_timeout_bounds_and_default_are_accepted(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    [receipt] = await queue_states(ctx, inst, ["notAuthorized"])
    for good in ["5", "60", "", None]:
        started = time.monotonic()
        if good is None:
            r = await client.get(inst.url("receiveNotification"))
        else:
            r = await receive(client, inst, good)
        if good == "60":  # a queued head is answered at once, not after the receiveTimeout
            assert time.monotonic() - started < 30, good
        assert r.status_code == 200, good
        assert r.json()["receiptId"] == receipt, good


async def test_empty_and_pushed_queues_answer_null_after_the_timeout(
    client: httpx.AsyncClient, make_instance: MakeInstance, refused_url: str
) -> None:
    empty = await make_instance(stateWebhook="no")
    pushed = await make_instance(stateWebhook="yes", webhookUrl=refused_url)
    await wait_for_state(client, empty, "notAuthorized")
    await wait_for_state(client, pushed, "notAuthorized")
    # The pushed instance's notification waits for its (failing) webhook.
    assert await count(client, pushed) == 1

    async def timed(inst: Instance) -> tuple[float, httpx.Response]:
        started = time.monotonic()
        r = await receive(client, inst, 5)
        return time.monotonic() - started, r

    results = await asyncio.gather(timed(empty), timed(pushed))
    for elapsed, r in results:
        assert r.status_code == 200
        assert r.content == b"null"
        assert r.headers["content-type"] == "application/json"
        assert 4.9 <= elapsed < 5 + 25, elapsed  # after the timeout, and no hanging on
    # The pushed queue's item was not handed to the poller and is still queued.
    assert await count(client, pushed) == 1
    assert await count(client, empty) == 0


async def test_long_poll_wakes_up_when_the_server_queues_a_notification(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(stateWebhook="yes")
    await wait_for_state(client, inst, "notAuthorized")
    head = await receive_one(client, inst)
    assert (await delete(client, inst, head["receiptId"])).json() == {"result": True}

    before = _resync_listeners(server)
    poll = asyncio.create_task(receive(client, inst, 60))
    await parked(server, before, poll)
    woken = time.monotonic()
    await reboot(client, inst)
    r = await asyncio.wait_for(poll, 60)
    latency = time.monotonic() - woken
    # Far below the poll's 60 s: it woke on the notification, not at its timeout.
    assert latency < 30, f"long-poll answered {latency:.2f} s after the reboot"
    item = r.json()
    assert item["body"]["stateInstance"] == "starting"


async def test_long_poll_wakes_up_on_a_notification_queued_by_another_process(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    # ctx is a separate Context: on PostgreSQL its NOTIFY wakes the server at once; on SQLite
    # the server finds the row on its periodic re-check (about 1 s).
    inst = await make_instance()
    before = _resync_listeners(server)
    poll = asyncio.create_task(receive(client, inst, 60))
    await parked(server, before, poll)
    woken = time.monotonic()
    [receipt] = await queue_states(ctx, inst, ["starting"])
    r = await asyncio.wait_for(poll, 60)
    latency = time.monotonic() - woken
    assert latency < 30, f"long-poll answered {latency:.2f} s after the commit"  # not at 60 s
    assert r.json()["receiptId"] == receipt


# --- deleteNotification --------------------------------------------------------------------


async def test_delete_acknowledges_once(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    first, second = await queue_states(ctx, inst, ["a", "b"])
    r = await delete(client, inst, first)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"result": True}
    assert (await delete(client, inst, first)).json() == {"result": False}
    assert await count(client, inst) == 1
    assert (await receive_one(client, inst))["receiptId"] == second


async def test_receipt_ids_are_not_reused_after_acknowledgement(
    client: httpx.AsyncClient,
    make_instance: MakeInstance,
    ctx: Context,
) -> None:
    inst = await make_instance()
    [old] = await queue_states(ctx, inst, ["a"])
    assert (await delete(client, inst, old)).json() == {"result": True}
    [new] = await queue_states(ctx, inst, ["b"])
    # A client retrying its acknowledgement (say, after a lost response) must not drop "b".
    assert (await delete(client, inst, old)).json() == {"result": False}
    assert await count(client, inst) == 1
    assert new > old


async def test_delete_out_of_order_removes_only_that_notification(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    ids = await queue_states(ctx, inst, ["a", "b", "c"])
    assert (await delete(client, inst, ids[1])).json() == {"result": True}
    assert (await receive_one(client, inst))["receiptId"] == ids[0]
    assert (await delete(client, inst, ids[0])).json() == {"result": True}
    assert (await receive_one(client, inst))["receiptId"] == ids[2]


async def test_delete_unknown_receipt_is_false(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    await queue_states(ctx, inst, ["a"])
    for unknown in ["0", "9000000000000000000", "0009"]:
        r = await delete(client, inst, unknown)
        assert r.status_code == 200, unknown
        assert r.json() == {"result": False}, unknown
    assert await count(client, inst) == 1


async def test_delete_receipt_beyond_int64_is_false_not_500(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    r = await delete(client, inst, "9999999999999999999")  # 19 digits, > 2**63 - 1
    assert r.status_code == 200, r.text
    assert r.json() == {"result": False}


async def test_delete_receipt_of_another_instance_is_false_and_leaves_it_queued(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    mine = await make_instance()
    other = await make_instance()
    [theirs] = await queue_states(ctx, other, ["a"])
    assert (await delete(client, mine, theirs)).json() == {"result": False}
    assert await count(client, other) == 1
    assert (await receive_one(client, other))["receiptId"] == theirs
    assert (await delete(client, other, theirs)).json() == {"result": True}


async def test_delete_non_numeric_receipt_is_400(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    await queue_states(ctx, inst, ["a"])
    for bad in ["abc", "-1", "1.5", "12a", "%C2%B2", "%D9%A5"]:  # last two: "²", Arabic-Indic 5
        r = await delete(client, inst, bad)
        assert r.status_code == 400, bad
        assert r.json() == RECEIPT_ERROR, bad
    assert await count(client, inst) == 1


@pytest.mark.parametrize("path_suffix", ["/", ""])
async def test_delete_with_the_receipt_id_as_json_body(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context, path_suffix: str
) -> None:
    # What the official client's deleteNotificationAsync sends: DELETE .../{token}/ + `123`.
    inst = await make_instance()
    first, second = await queue_states(ctx, inst, ["a", "b"])
    url = inst.url("deleteNotification") + path_suffix
    headers = {"Content-Type": "application/json"}
    r = await client.request("DELETE", url, content=str(first).encode(), headers=headers)
    assert r.status_code == 200, r.text
    assert r.json() == {"result": True}
    r = await client.request("DELETE", url, content=str(first).encode(), headers=headers)
    assert r.json() == {"result": False}
    as_object = orjson.dumps({"receiptId": second})
    r = await client.request("DELETE", url, content=as_object, headers=headers)
    assert r.json() == {"result": True}
    assert await count(client, inst) == 0


async def test_delete_with_a_body_that_is_not_a_receipt_number_is_400(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    [receipt] = await queue_states(ctx, inst, ["a"])
    url = inst.url("deleteNotification") + "/"
    for body in [b"", b"true", f'"{receipt}"'.encode(), b"1.5", b"-3", b"null", b"[5]", b"{}"]:
        r = await client.request(
            "DELETE", url, content=body, headers={"Content-Type": "application/json"}
        )
        assert r.status_code == 400, body
        assert r.json() == RECEIPT_ERROR, body
    assert await count(client, inst) == 1


# --- getWebhooksCount / clearWebhooksQueue -------------------------------------------------


async def test_webhooks_count_answers_both_spellings_and_tracks_the_queue(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    r = await client.get(inst.url("getWebhooksCount"))
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/json"
    assert r.json() == {"count": 0, "\u0441ount": 0}
    assert "\u0441ount".encode() in r.content  # UTF-8 of U+0441, not an ASCII "c"
    assert [ord(k[0]) for k in r.json()] == [ord("c"), 0x0441]

    ids = await queue_states(ctx, inst, ["a", "b", "c"])
    assert await count(client, inst) == 3
    await delete(client, inst, ids[0])
    assert await count(client, inst) == 2
    await receive_one(client, inst)  # receiving does not consume
    assert await count(client, inst) == 2


async def test_clear_empties_the_queue_once_a_minute(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    other = await make_instance()
    await queue_states(ctx, inst, ["a", "b", "c"])
    await queue_states(ctx, other, ["x"])

    assert await clear(client, inst) == {"isCleared": True, "reason": ""}
    assert await count(client, inst) == 0
    assert await count(client, other) == 1  # only this instance's queue

    later = await queue_states(ctx, inst, ["d", "e"])
    refused = await clear(client, inst)
    assert list(refused) == ["isCleared", "reason", "leftTime"]
    assert refused["isCleared"] is False
    assert refused["reason"] == "Too many requests"
    assert type(refused["leftTime"]) is int
    assert 0 < refused["leftTime"] <= 60
    # Nothing was cleared by the refused call.
    assert await count(client, inst) == 2
    assert (await receive_one(client, inst))["receiptId"] == later[0]
    # The other instance has its own allowance.
    assert await clear(client, other) == {"isCleared": True, "reason": ""}


async def test_concurrent_clears_within_a_minute_clear_only_once(
    client: httpx.AsyncClient,
    make_instance: MakeInstance,
    ctx: Context,
) -> None:
    inst = await make_instance()
    await queue_states(ctx, inst, ["a"])
    # Hold the instance row (PostgreSQL) / the write lock (SQLite) for a moment, so that the
    # clears surely overlap instead of depending on scheduling luck; the row is not changed.
    async with ctx.db.transaction() as session:
        await session.execute(
            update(InstanceRow)
            .where(InstanceRow.id_instance == inst.id)
            .values(queue_cleared_ms=InstanceRow.queue_cleared_ms)
        )
        clears = asyncio.gather(*(clear(client, inst) for _ in range(6)))
        await asyncio.sleep(0.5)
    answers = await asyncio.wait_for(clears, 15)
    assert sorted(a["isCleared"] for a in answers) == [False] * 5 + [True], answers
    assert await count(client, inst) == 0


# --- what is queued at all -----------------------------------------------------------------


async def test_nothing_is_queued_when_state_webhook_is_no(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance(stateWebhook="no")
    await authorize(client, inst, random_phone())  # starting -> notAuthorized -> authorized
    await reboot(client, inst)  # -> starting -> authorized
    await wait_for_state(client, inst, "authorized")
    assert await count(client, inst) == 0
    assert await rows(ctx, inst.id) == []  # not even delivered or dead ones

    # Switched on, the next changes are queued.
    r = await client.post(inst.url("setSettings"), json={"stateWebhook": "yes"})
    assert r.json() == {"saveSettings": True}
    await reboot(client, inst)
    await wait_for_state(client, inst, "authorized")
    states = [orjson.loads(b)["stateInstance"] for b in await rows(ctx, inst.id)]
    assert states == ["starting", "authorized"]
    assert await count(client, inst) == 2
