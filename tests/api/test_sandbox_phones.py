"""The virtual phones' messaging endpoints of the sandbox, against a live server on both databases.

POST /sandbox/phones/{phone}/messages (write), GET .../messages (inbox), POST .../read.
Every phone number is random: the sandbox network is shared by every test of the session.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from tests.sending import (
    ID_MESSAGE,
    Json,
    bearer,
    new_phone,
    notifications_until,
    send,
    statuses_of,
    wait_inbox,
    wait_outgoing,
)
from tests.support import LiveServer, MakeInstance, MakePartner, authorize

PHONE_ERROR = {"error": "phone must be 7 to 15 digits with the country code"}
CHAT_ERROR = {"error": "chatId must be <phone digits>@c.us"}
LIMIT_ERROR = {"error": "limit must be an integer from 1 to 1000"}
FULLWIDTH = "".join(chr(0xFF10 + int(d)) for d in "79001234567")  # digits, but not ASCII ones
BAD_PHONES = ["12ab5678901", "123456", "1234567890123456", "+79001234567", FULLWIDTH]


def endpoints(phone: str, chat_id: str) -> list[tuple[str, str, Json | None]]:
    """(verb, path, JSON body) of the three endpoints, with valid bodies."""
    return [
        ("POST", f"/sandbox/phones/{phone}/messages", {"chatId": chat_id, "message": "hi"}),
        ("GET", f"/sandbox/phones/{phone}/messages", None),
        ("POST", f"/sandbox/phones/{phone}/read", {"chatId": chat_id}),
    ]


async def write(client: httpx.AsyncClient, token: str, phone: str, to_phone: str, text: str) -> str:
    r = await client.post(
        f"/sandbox/phones/{phone}/messages",
        json={"chatId": f"{to_phone}@c.us", "message": text},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    data = r.json()
    assert list(data) == ["idMessage"] and ID_MESSAGE.match(data["idMessage"])
    id_message: str = data["idMessage"]
    return id_message


async def read(client: httpx.AsyncClient, token: str, phone: str, chat_phone: str) -> Json:
    r = await client.post(
        f"/sandbox/phones/{phone}/read",
        json={"chatId": f"{chat_phone}@c.us"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    data: Json = r.json()
    return data


async def inbox_of(
    client: httpx.AsyncClient, token: str, phone: str, **params: str | int
) -> httpx.Response:
    return await client.get(
        f"/sandbox/phones/{phone}/messages", params=params, headers=bearer(token)
    )


# --- errors ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone", BAD_PHONES, ids=["letters", "6-digits", "16-digits", "plus", "fullwidth"]
)
async def test_a_bad_phone_is_400_on_every_endpoint(
    client: httpx.AsyncClient, make_partner: MakePartner, phone: str
) -> None:
    token = await make_partner()
    for verb, path, body in endpoints(phone, "79001234567@c.us"):
        r = await client.request(verb, path, json=body, headers=bearer(token))
        assert (r.status_code, r.json()) == (400, PHONE_ERROR), (verb, path)


@pytest.mark.parametrize(
    ("chat_id", "error"),
    [
        ("79001234567", CHAT_ERROR),
        ("120363025955555555@g.us", CHAT_ERROR),
        ("79001234567@s.whatsapp.net", CHAT_ERROR),
        ("abc@c.us", PHONE_ERROR),
        ("123@c.us", PHONE_ERROR),
        ("", CHAT_ERROR),
        (79001234567, {"error": "chatId must be a string"}),
        (None, {"error": "chatId must be a string"}),
    ],
    ids=["no-suffix", "group", "wa-domain", "letters", "short", "empty", "number", "null"],
)
async def test_a_bad_chat_id_is_400_when_writing_and_reading(
    client: httpx.AsyncClient, make_partner: MakePartner, chat_id: object, error: Json
) -> None:
    token = await make_partner()
    phone = new_phone()
    for verb, path, body in endpoints(phone, "x"):
        if body is None:
            continue
        r = await client.request(verb, path, json=body | {"chatId": chat_id}, headers=bearer(token))
        # A phone writes to groups it is a member of (tests/api/greenapi/test_groups_*.py).
        group_write = str(chat_id).endswith("@g.us") and path.endswith("/messages")
        expected = {"error": "not a member of the group"} if group_write else error
        assert (r.status_code, r.json()) == (400, expected), path
    # Nothing was written to anybody.
    r = await inbox_of(client, token, phone)
    assert r.json() == {"messages": []}


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer gac.0123456789abcdef", "Basic dXNlcjpwYXNz", "gac.x"],
    ids=["missing", "empty", "no-token", "wrong-token", "basic", "no-scheme"],
)
async def test_missing_or_wrong_bearer_is_401_on_every_endpoint(
    client: httpx.AsyncClient, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    for verb, path, body in endpoints(new_phone(), f"{new_phone()}@c.us"):
        r = await client.request(verb, path, json=body, headers=headers)
        assert (r.status_code, r.json()) == (401, {"error": "Unauthorized"}), (verb, path)
        assert r.headers["www-authenticate"] == "Bearer"


async def test_an_instance_token_is_no_bearer(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    r = await client.get(f"/sandbox/phones/{new_phone()}/messages", headers=bearer(inst.token))
    assert (r.status_code, r.json()) == (401, {"error": "Unauthorized"})


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"chatId": "79001234567@c.us", "message": ""}, "message must not be empty"),
        ({"chatId": "79001234567@c.us"}, "field message is required"),
        ({"chatId": "79001234567@c.us", "message": 5}, "message must be a string"),
        (
            {"chatId": "79001234567@c.us", "message": "x" * 20_001},
            "message must be at most 20000 characters",
        ),
        ({"chatId": "79001234567@c.us", "message": "hi", "x": 1}, "unknown field x"),
        (["79001234567@c.us", "hi"], "request body must be a JSON object"),
    ],
    ids=["empty", "missing", "number", "too-long", "unknown-field", "array"],
)
async def test_a_bad_message_body_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner, body: object, error: str
) -> None:
    token = await make_partner()
    r = await client.post(
        f"/sandbox/phones/{new_phone()}/messages", json=body, headers=bearer(token)
    )
    assert (r.status_code, r.json()) == (400, {"error": error})


async def test_a_body_that_is_no_json_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    headers = bearer(token) | {"Content-Type": "application/json"}
    for path in ("messages", "read"):
        r = await client.post(
            f"/sandbox/phones/{new_phone()}/{path}", content=b"{", headers=headers
        )
        assert (r.status_code, r.json()) == (400, {"error": "request body is not valid JSON"})
        r = await client.post(f"/sandbox/phones/{new_phone()}/{path}", content=b"", headers=headers)
        assert (r.status_code, r.json()) == (400, {"error": "field chatId is required"})
    body = {"chatId": "79001234567@c.us", "idMessage": "X"}
    r = await client.post(f"/sandbox/phones/{new_phone()}/read", json=body, headers=bearer(token))
    assert (r.status_code, r.json()) == (400, {"error": "unknown field idMessage"})


@pytest.mark.parametrize("limit", ["0", "1001", "-1"])
async def test_a_limit_out_of_range_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner, limit: str
) -> None:
    token = await make_partner()
    r = await inbox_of(client, token, new_phone(), limit=limit)
    assert (r.status_code, r.json()) == (400, LIMIT_ERROR)


@pytest.mark.parametrize("limit", ["abc", "1.5", ""])
async def test_a_limit_that_is_no_integer_is_400_in_the_sandbox_format(
    client: httpx.AsyncClient, make_partner: MakePartner, limit: str
) -> None:
    token = await make_partner()
    r = await inbox_of(client, token, new_phone(), limit=limit)
    assert (r.status_code, r.json()) == (400, LIMIT_ERROR)


# --- the inbox ------------------------------------------------------------------------------


async def test_the_inbox_lists_the_newest_messages_oldest_first(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token, other_token = await make_partner(), await make_partner()
    me, friend, stranger = new_phone(), new_phone(), new_phone()
    assert (await inbox_of(client, token, me)).json() == {"messages": []}

    ids = [await write(client, token, friend, me, f"m{i}") for i in range(3)]
    ids.append(await write(client, other_token, stranger, me, "m3"))

    r = await inbox_of(client, token, me)
    assert r.status_code == 200
    messages = r.json()["messages"]
    assert [m["idMessage"] for m in messages] == ids
    first = messages[0]
    assert first == {
        "idMessage": ids[0],
        "chatId": f"{friend}@c.us",
        "sender": f"{friend}@c.us",
        "timestamp": first["timestamp"],
        "timestampMs": first["timestampMs"],
        "typeMessage": "textMessage",
        "text": "m0",
        "messageData": {"typeMessage": "textMessage", "textMessageData": {"textMessage": "m0"}},
    }
    assert type(first["timestamp"]) is int
    assert first["timestamp"] == first["timestampMs"] // 1000
    assert messages[3]["chatId"] == f"{stranger}@c.us"

    for limit, expected in ((1, ids[3:]), (2, ids[2:]), (4, ids), (1000, ids)):
        r = await inbox_of(client, token, me, limit=limit)
        assert [m["idMessage"] for m in r.json()["messages"]] == expected, limit
    # The senders' inboxes got only receipts, which are no messages.
    assert (await inbox_of(client, token, friend)).json() == {"messages": []}


async def test_the_inbox_keeps_at_most_the_newest_limit_of_many(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    me, friend = new_phone(), new_phone()
    ids = [await write(client, token, friend, me, f"n{i}") for i in range(12)]
    default = (await inbox_of(client, token, me)).json()["messages"]
    assert [m["idMessage"] for m in default] == ids
    last5 = (await inbox_of(client, token, me, limit=5)).json()["messages"]
    assert [m["text"] for m in last5] == [f"n{i}" for i in range(7, 12)]


# --- read receipts --------------------------------------------------------------------------


async def test_reading_a_chat_counts_its_messages(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    me, friend, other = new_phone(), new_phone(), new_phone()
    for text in ("a", "b", "c"):
        await write(client, token, friend, me, text)
    await write(client, token, other, me, "d")

    assert await read(client, token, me, friend) == {"read": 3}
    assert await read(client, token, me, other) == {"read": 1}
    assert await read(client, token, me, new_phone()) == {"read": 0}
    assert await read(client, token, friend, me) == {"read": 0}  # friend got nothing from me


async def test_a_phone_reading_a_chat_sends_read_receipts_to_the_instance(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(outgoingWebhook="yes")
    own, phone = new_phone(), new_phone()
    await authorize(client, inst, own)
    ids = [
        await send(client, inst, "sendMessage", {"chatId": f"{phone}@c.us", "message": t})
        for t in ("one", "two")
    ]
    await wait_inbox(client, phone, inst.partner_token, 2)
    await wait_outgoing(client, inst, 2)

    assert await read(client, inst.partner_token, phone, own) == {"read": 2}

    def both_read(bodies: list[Json]) -> bool:
        return all("read" in statuses_of(bodies, i) for i in ids)

    bodies = await notifications_until(client, inst, both_read)
    for id_message in ids:
        # sent, delivered, read; "delivered" can be lost on PostgreSQL to a known race (see
        # test_sending's receipt race test), so only the ends are checked here.
        statuses = statuses_of(bodies, id_message)
        assert statuses[0] == "sent" and statuses[-1] == "read", statuses
        assert set(statuses) <= {"sent", "delivered", "read"}
    journal = await wait_outgoing(client, inst, 2, status="read")
    assert [j["idMessage"] for j in journal] == ids[::-1]


async def test_a_phone_writing_to_an_instance_is_an_incoming_message(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(incomingWebhook="yes")
    own, phone = new_phone(), new_phone()
    await authorize(client, inst, own)
    id_message = await write(client, inst.partner_token, phone, own, "hello instance")

    bodies = await notifications_until(client, inst, lambda b: len(b) >= 1)
    (body,) = bodies
    assert body["typeWebhook"] == "incomingMessageReceived"
    assert body["idMessage"] == id_message
    assert body["senderData"]["sender"] == f"{phone}@c.us"
    assert body["senderData"]["senderName"] == phone
    assert body["messageData"]["textMessageData"] == {"textMessage": "hello instance"}
    # The network shows it in the inbox of the instance's phone number too.
    got = (await inbox_of(client, inst.partner_token, own)).json()["messages"]
    assert [m["idMessage"] for m in got] == [id_message]
    journal = await client.get(inst.url("lastIncomingMessages"))
    assert [j["idMessage"] for j in journal.json()] == [id_message]


# --- concurrency ----------------------------------------------------------------------------


async def test_first_messages_of_a_new_phone_sent_at_once_all_succeed(
    server: LiveServer,
    client: httpx.AsyncClient,
    make_partner: MakePartner,
) -> None:
    token = await make_partner()
    refused: list[str] = []
    for _ in range(10):
        sender, to = new_phone(), new_phone()
        answers = await asyncio.gather(
            *(
                client.post(
                    f"/sandbox/phones/{sender}/messages",
                    json={"chatId": f"{to}@c.us", "message": f"burst {i}"},
                    headers=bearer(token),
                )
                for i in range(8)
            )
        )
        refused = [f"{r.status_code} {r.text}" for r in answers if r.status_code != 200]
        if refused:
            # The server thread logs each 500's traceback after answering; let it finish
            # before pytest formats this failure (CPython 3.11 tracebacks parse source with
            # ast, which is not safe from two threads at once).
            await asyncio.sleep(0.5)
            break
        got = (await inbox_of(client, token, to)).json()["messages"]
        assert sorted(m["text"] for m in got) == sorted(f"burst {i}" for i in range(8))
    assert refused == []


# --- the conversation -----------------------------------------------------------------------


async def conversation(client: httpx.AsyncClient, token: str, phone: str) -> list[Json]:
    r = await client.get(f"/sandbox/phones/{phone}/conversation", headers=bearer(token))
    assert r.status_code == 200, r.text
    messages: list[Json] = r.json()["messages"]
    return messages


async def act(client: httpx.AsyncClient, token: str, phone: str, action: str, body: Json) -> str:
    r = await client.post(f"/sandbox/phones/{phone}/{action}", json=body, headers=bearer(token))
    assert r.status_code == 200, (action, r.text)
    id_message: str = r.json()["idMessage"]
    return id_message


async def test_the_conversation_shows_both_ways_with_changes_folded_in(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    me, friend = new_phone(), new_phone()
    mine = await write(client, token, me, friend, "typo")
    theirs = await write(client, token, friend, me, "hi")
    edit = await act(
        client, token, me, "edit", {"chatId": f"{friend}@c.us", "idMessage": mine, "message": "ok"}
    )
    for emoji in ("❤", ""):  # given, then taken back
        await act(
            client,
            token,
            me,
            "react",
            {"chatId": f"{friend}@c.us", "idMessage": theirs, "reaction": emoji},
        )
    await act(
        client,
        token,
        friend,
        "react",
        {"chatId": f"{me}@c.us", "idMessage": mine, "reaction": "👍"},
    )

    messages = await conversation(client, token, me)
    by_id = {m["idMessage"]: m for m in messages}
    assert [m["idMessage"] for m in messages][:3] == [mine, theirs, edit]
    first = by_id[mine]
    assert first["fromMe"] is True and first["chatId"] == f"{friend}@c.us"
    assert first["sender"] == f"{me}@c.us"
    assert (first["text"], first["isEdited"]) == ("ok", True)
    assert first["reactions"] == {f"{friend}@c.us": "👍"}
    assert by_id[theirs]["fromMe"] is False and by_id[theirs]["chatId"] == f"{friend}@c.us"
    assert by_id[theirs]["reactions"] == {}
    assert [m["typeMessage"] for m in messages[2:]] == ["editedMessage", *["reactionMessage"] * 3]

    await act(client, token, me, "delete", {"chatId": f"{friend}@c.us", "idMessage": mine})
    seen_by_friend = {m["idMessage"]: m for m in await conversation(client, token, friend)}
    assert seen_by_friend[mine]["isDeleted"] is True
    assert seen_by_friend[mine]["fromMe"] is False and seen_by_friend[theirs]["fromMe"] is True
    # The inbox folds the same changes onto what the phone received.
    inbox = {m["idMessage"]: m for m in (await inbox_of(client, token, friend)).json()["messages"]}
    assert inbox[mine]["isDeleted"] is True and inbox[mine]["text"] == "ok"
    assert mine in inbox and theirs not in inbox


async def test_a_message_to_a_group_shows_once_in_the_conversation(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    me, friend, third = new_phone(), new_phone(), new_phone()
    r = await client.post(
        f"/sandbox/phones/{me}/groups",
        json={"groupName": "team", "chatIds": [f"{friend}@c.us", f"{third}@c.us"]},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    group = r.json()["chatId"]
    r = await client.post(
        f"/sandbox/phones/{me}/messages",
        json={"chatId": group, "message": "all"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    sent = r.json()["idMessage"]
    [only] = await conversation(client, token, me)
    assert (only["idMessage"], only["chatId"], only["fromMe"]) == (sent, group, True)
    [got] = await conversation(client, token, friend)
    assert (got["idMessage"], got["chatId"], got["sender"]) == (sent, group, f"{me}@c.us")
    assert got["fromMe"] is False


async def test_the_conversation_keeps_to_the_rules(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token, stranger = await make_partner(), await make_partner()
    me = new_phone()
    await write(client, token, me, new_phone(), "x")
    path = f"/sandbox/phones/{me}/conversation"
    r = await client.get(path, headers=bearer(stranger))
    assert r.status_code == 404, r.text
    for limit in ("0", "1001", "x"):
        r = await client.get(path, params={"limit": limit}, headers=bearer(token))
        assert (r.status_code, r.json()) == (400, LIMIT_ERROR)
    r = await client.get("/sandbox/phones/12ab5678901/conversation", headers=bearer(token))
    assert (r.status_code, r.json()) == (400, PHONE_ERROR)
    r = await client.get(path)
    assert r.status_code == 401
    messages = await conversation(client, token, me)
    assert [m["text"] for m in messages] == ["x"]
    fresh = new_phone()  # a first use takes the number for the partner
    assert await conversation(client, token, fresh) == []
    r = await client.get(f"/sandbox/phones/{fresh}/conversation", headers=bearer(stranger))
    assert r.status_code == 404, r.text
    r = await client.get(path, params={"limit": 1}, headers=bearer(token))
    assert [m["text"] for m in r.json()["messages"]] == ["x"]
