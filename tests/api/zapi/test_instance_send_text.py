"""Z-API send-text, through the sandbox network, on a live server on both databases."""

from __future__ import annotations

import httpx
import pytest

from tests.api.zapi.instances import (
    ARABIC_INDIC,
    FULLWIDTH,
    ZAAP_ID,
    Json,
    MakeZapi,
    assert_error,
    connect,
    green_queue,
    new_phone,
)
from tests.sending import wait_inbox
from tests.support import wait_for_state

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
    assert queue[0]["type"] == "sendMessage" and queue[0]["body"]["message"] == "hi all"


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
