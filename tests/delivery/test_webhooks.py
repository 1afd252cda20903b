"""Webhook push to a real local receiver: order, headers, retries, dead letters, isolation."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import time

import httpx

from fleetgate.delivery.worker import NON_PUBLIC_FAILURE
from tests.delivery.hooks import SIGNING_SECRET, Emit, MakeHooked, seqs
from tests.receiver import Receiver


async def test_notifications_arrive_in_order_with_bearer_json_and_signature(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit, dclient: httpx.AsyncClient
) -> None:
    inst = await make_hooked("order", webhookUrlToken="s3cret")
    await emit(inst, list(range(20)))
    got = await receiver.wait_for("order", 20)
    assert seqs(got) == list(range(20))
    first = got[0]
    assert first.headers["authorization"] == "Bearer s3cret"
    assert first.headers["content-type"] == "application/json; charset=utf-8"
    body = first.body
    assert list(body)[:3] == ["typeWebhook", "instanceData", "timestamp"]
    assert body["instanceData"] == {"idInstance": inst.id, "wid": "", "typeInstance": "whatsapp"}
    t, v1 = (part.split("=", 1)[1] for part in first.headers["x-fleetgate-signature"].split(","))
    expected = hmac.new(SIGNING_SECRET.encode(), f"{t}.".encode() + first.raw, hashlib.sha256)
    assert hmac.compare_digest(v1, expected.hexdigest())
    # The receiver records before it answers, so the queue empties a moment later.
    deadline = time.monotonic() + 5
    while (await dclient.get(inst.url("getWebhooksCount"))).json()["count"] and (
        time.monotonic() < deadline
    ):
        await asyncio.sleep(0.02)
    assert (await dclient.get(inst.url("getWebhooksCount"))).json()["count"] == 0


async def test_no_authorization_header_without_a_token(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit
) -> None:
    inst = await make_hooked("plain")
    await emit(inst, [1])
    (got,) = await receiver.wait_for("plain", 1)
    assert "authorization" not in got.headers


async def test_a_failing_head_is_retried_and_blocks_the_rest_in_order(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit
) -> None:
    receiver.behave("flaky", fail_first=3, fail_status=503)
    inst = await make_hooked("flaky")
    await emit(inst, [0, 1, 2])
    ok = await receiver.wait_for("flaky", 3)
    assert seqs(ok) == [0, 1, 2]
    every = receiver.of("flaky", ok_only=False)
    assert [(r.body["seq"], r.answered) for r in every] == [
        (0, 503),
        (0, 503),
        (0, 503),
        (0, 200),
        (1, 200),
        (2, 200),
    ]
    pauses = [b.at - a.at for a, b in itertools.pairwise(every[:4])]
    assert all(p >= 0.15 for p in pauses), pauses


async def test_only_http_200_counts_as_delivered(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit
) -> None:
    receiver.behave("created", fail_first=2, fail_status=201)
    inst = await make_hooked("created")
    await emit(inst, [7])
    (ok,) = await receiver.wait_for("created", 1)
    assert [r.answered for r in receiver.of("created", ok_only=False)] == [201, 201, 200]
    assert ok.body["seq"] == 7


async def test_undeliverable_notifications_become_dead_letters_and_replay_in_order(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit, dclient: httpx.AsyncClient
) -> None:
    receiver.behave("down", fail_first=10_000)
    inst = await make_hooked("down")
    await emit(inst, [0, 1])
    auth = {"Authorization": f"Bearer {inst.partner_token}"}
    deadline = time.monotonic() + 15
    dead: list[dict[str, object]] = []
    while time.monotonic() < deadline:
        dead = (await dclient.get("/admin/dead-letters", headers=auth)).json()["deadLetters"]
        if len(dead) == 2:
            break
        await asyncio.sleep(0.1)
    assert [d["body"]["seq"] for d in dead] == [0, 1]  # type: ignore[index]
    assert all(d["idInstance"] == inst.id for d in dead)
    # A loopback receiver answering 500 reads as any other failure there would (no port map).
    assert all(d["lastError"] == NON_PUBLIC_FAILURE for d in dead)
    assert receiver.of("down") == []

    receiver.behave("down")  # the receiver is back
    r = await dclient.post(
        "/admin/dead-letters/replay", json={"ids": [d["id"] for d in dead]}, headers=auth
    )
    assert r.status_code == 200 and len(r.json()["replayed"]) == 2
    got = await receiver.wait_for("down", 2)
    assert seqs(got) == [0, 1]
    left = (await dclient.get("/admin/dead-letters", headers=auth)).json()["deadLetters"]
    assert left == []


async def test_dead_letters_are_per_partner(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit, dclient: httpx.AsyncClient
) -> None:
    receiver.behave("mine", fail_first=10_000)
    mine = await make_hooked("mine")
    other = await make_hooked("other-partner")
    await emit(mine, [0])
    auth_mine = {"Authorization": f"Bearer {mine.partner_token}"}
    auth_other = {"Authorization": f"Bearer {other.partner_token}"}
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        dead = (await dclient.get("/admin/dead-letters", headers=auth_mine)).json()["deadLetters"]
        if dead:
            break
        await asyncio.sleep(0.1)
    assert len(dead) == 1
    assert (await dclient.get("/admin/dead-letters", headers=auth_other)).json() == {
        "deadLetters": []
    }
    r = await dclient.post(
        "/admin/dead-letters/replay", json={"ids": [dead[0]["id"]]}, headers=auth_other
    )
    assert r.json() == {"replayed": []}
    r = await dclient.get("/admin/dead-letters")
    assert r.status_code == 401 and r.json() == {"error": "Unauthorized"}
    r = await dclient.post("/admin/dead-letters/replay", json={"ids": []}, headers=auth_mine)
    assert r.status_code == 400


async def test_a_slow_receiver_does_not_delay_other_instances(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit
) -> None:
    # The slow receiver answers when the test says so, or at the latest just before the
    # worker's 2 s timeout would cut it off (FAST_DELIVERY).
    receiver.behave("slow", hold_s=1.9)
    slow = await make_hooked("slow")
    fast = await make_hooked("fast")
    await emit(slow, [0, 1])
    await receiver.wait_arrived("slow", 1)  # the slow head is now in flight
    await emit(fast, list(range(10)))
    got = await receiver.wait_for("fast", 10)
    assert seqs(got) == list(range(10))
    # All ten went through while the slow head was still held: nothing waited for it.
    assert receiver.of("slow", ok_only=False) == [], "the fast instance waited for the slow one"
    receiver.release()
    slow_got = await receiver.wait_for("slow", 2)
    assert seqs(slow_got) == [0, 1]


async def test_clearing_webhook_url_stops_pushing(
    receiver: Receiver, make_hooked: MakeHooked, emit: Emit, dclient: httpx.AsyncClient
) -> None:
    inst = await make_hooked("switch")
    r = await dclient.post(inst.url("setSettings"), json={"webhookUrl": ""})
    assert r.json() == {"saveSettings": True}
    await emit(inst, [0])
    # A marker emitted after it: once the worker has pushed the marker, it has claimed since
    # seq 0 was committed, and would have pushed seq 0 too if it still had the old URL.
    marker = await make_hooked("marker")
    await emit(marker, [0])
    await receiver.wait_for("marker", 1)
    polled = (await dclient.get(inst.url("receiveNotification") + "?receiveTimeout=5")).json()
    assert polled["body"]["seq"] == 0  # still queued for the poller: not pushed, not lost
    assert receiver.arrivals("switch") == []
