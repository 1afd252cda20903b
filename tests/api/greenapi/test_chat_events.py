"""What a virtual phone does to a chat (edit, delete, react, vote, call, block) reaches the
instance as GREEN-API notifications, each behind its switch, on each database; and the phone
endpoints keep to the sandbox's ownership rule."""

from __future__ import annotations

from typing import Any

import httpx

from tests.sending import (
    ID_MESSAGE,
    Json,
    bearer,
    inbox,
    new_phone,
    notifications_until,
    phone_sends,
    post,
    send,
    wait_inbox,
)
from tests.support import Instance, MakeInstance, authorize

EXTRA_SWITCHES = (
    "editedMessageWebhook",
    "deletedMessageWebhook",
    "pollMessageWebhook",
    "incomingCallWebhook",
    "incomingBlockWebhook",
)


async def phone_does(
    client: httpx.AsyncClient, inst: Instance, phone: str, action: str, body: Json
) -> Json:
    r = await client.post(
        f"/sandbox/phones/{phone}/{action}", json=body, headers=bearer(inst.partner_token)
    )
    assert r.status_code == 200, (action, r.text)
    answer: Json = r.json()
    return answer


async def linked(
    client: httpx.AsyncClient, make_instance: MakeInstance, switches: str
) -> tuple[Instance, str, str]:
    """An instance (incoming and API-echo notifications on, the extra switches ``switches``)
    linked to phone ``own``, and another phone of its partner."""
    settings = dict.fromkeys(EXTRA_SWITCHES, switches)
    inst = await make_instance(
        incomingWebhook="yes",
        outgoingAPIMessageWebhook="yes",
        outgoingWebhook="no",
        outgoingMessageWebhook="no",
        stateWebhook="no",
        **settings,
    )
    own, other = new_phone(), new_phone()
    await inbox(client, other, inst.partner_token)
    await authorize(client, inst, own)
    return inst, own, other


async def everything_a_phone_does(
    client: httpx.AsyncClient, inst: Instance, own: str, other: str
) -> dict[str, str]:
    """The phone writes, the instance sends a poll and a text; then the phone edits and
    deletes its text, reacts to the poll, votes, calls and blocks. The ids involved."""
    chat = f"{own}@c.us"
    text = await phone_sends(client, inst.partner_token, other, own, "typo")
    poll = await send(
        client,
        inst,
        "sendPoll",
        {
            "chatId": f"{other}@c.us",
            "message": "Lunch?",
            "options": [{"optionName": "Yes"}, {"optionName": "No"}],
        },
    )
    mine = await send(client, inst, "sendMessage", {"chatId": f"{other}@c.us", "message": "v1"})
    await wait_inbox(client, other, inst.partner_token, 2)
    edit = await phone_does(
        client, inst, other, "edit", {"chatId": chat, "idMessage": text, "message": "fixed"}
    )
    delete = await phone_does(client, inst, other, "delete", {"chatId": chat, "idMessage": text})
    react = await phone_does(
        client, inst, other, "react", {"chatId": chat, "idMessage": poll, "reaction": "👍"}
    )
    vote = await phone_does(
        client, inst, other, "vote", {"chatId": chat, "idMessage": poll, "options": ["No"]}
    )
    called = await phone_does(client, inst, other, "call", {"chatId": chat, "outcome": "missed"})
    await phone_does(client, inst, other, "block", {"chatId": chat})
    own_edit = await post(
        client,
        inst,
        "editMessage",
        {"chatId": f"{other}@c.us", "idMessage": mine, "message": "v2"},
    )
    assert own_edit == {"idMessage": mine}
    return {
        "text": text,
        "poll": poll,
        "mine": mine,
        "edit": edit["idMessage"],
        "delete": delete["idMessage"],
        "react": react["idMessage"],
        "vote": vote["idMessage"],
        "call": called["idCall"],
    }


def kinds(bodies: list[Json]) -> list[tuple[str, Any]]:
    return [
        (b["typeWebhook"], b.get("messageData", {}).get("typeMessage") or b.get("status"))
        for b in bodies
    ]


async def test_phone_actions_notified_when_their_switches_are_on(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst, own, other = await linked(client, make_instance, "yes")
    ids = await everything_a_phone_does(client, inst, own, other)
    wanted = {
        ("incomingMessageReceived", "textMessage"),
        ("incomingMessageReceived", "editedMessage"),
        ("incomingMessageReceived", "deletedMessage"),
        ("incomingMessageReceived", "reactionMessage"),
        ("incomingMessageReceived", "pollUpdateMessage"),
        ("incomingCall", "offer"),
        ("incomingCall", "declined"),
        ("incomingBlock", None),
        ("outgoingAPIMessageReceived", "editedMessage"),
    }
    bodies = await notifications_until(client, inst, lambda seen: wanted <= set(kinds(seen)))
    by_kind = {k: b for k, b in zip(kinds(bodies), bodies, strict=True)}
    sender = {
        "chatId": f"{other}@c.us",
        "chatName": other,
        "sender": f"{other}@c.us",
        "senderName": other,
        "senderContactName": other,
    }

    edited = by_kind[("incomingMessageReceived", "editedMessage")]
    assert edited["idMessage"] == ids["edit"] and edited["senderData"] == sender
    assert edited["messageData"] == {
        "typeMessage": "editedMessage",
        "editedMessageData": {"textMessage": "fixed", "stanzaId": ids["text"]},
    }
    deleted = by_kind[("incomingMessageReceived", "deletedMessage")]
    assert deleted["idMessage"] == ids["delete"]
    assert deleted["messageData"] == {
        "typeMessage": "deletedMessage",
        "deletedMessageData": {"stanzaId": ids["text"]},
    }
    reaction = by_kind[("incomingMessageReceived", "reactionMessage")]
    assert reaction["messageData"] == {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": "👍"},
        "quotedMessage": {"stanzaId": ids["poll"], "participant": f"{own}@c.us"},
    }
    vote = by_kind[("incomingMessageReceived", "pollUpdateMessage")]
    assert vote["idMessage"] == ids["vote"]
    assert vote["messageData"] == {
        "typeMessage": "pollUpdateMessage",
        "pollMessageData": {
            "stanzaId": ids["poll"],
            "name": "Lunch?",
            "votes": [
                {"optionName": "Yes", "optionVoters": []},
                {"optionName": "No", "optionVoters": [f"{other}@c.us"]},
            ],
            "multipleAnswers": False,
        },
    }
    for status in ("offer", "declined"):
        call = by_kind[("incomingCall", status)]
        assert call["from"] == f"{other}@c.us" and call["idMessage"] == ids["call"]
        assert set(call) == {
            "typeWebhook",
            "instanceData",
            "timestamp",
            "from",
            "idMessage",
            "status",
        }
    block = by_kind[("incomingBlock", None)]
    assert block["chatId"] == f"{other}@c.us" and block["chatState"] == "blocked"
    own_edit = by_kind[("outgoingAPIMessageReceived", "editedMessage")]
    assert own_edit["messageData"]["editedMessageData"] == {
        "textMessage": "v2",
        "stanzaId": ids["mine"],
    }
    assert ID_MESSAGE.match(own_edit["idMessage"]) and own_edit["idMessage"] != ids["mine"]

    # The journal shows the phone's message edited, then deleted.
    entry = await post(
        client, inst, "getMessage", {"chatId": f"{other}@c.us", "idMessage": ids["text"]}
    )
    assert entry["textMessage"] == "fixed"
    assert entry["isEdited"] is True and entry["editedMessageId"] == ids["edit"]
    assert entry["isDeleted"] is True and entry["deletedMessageId"] == ids["delete"]


async def test_phone_actions_not_notified_when_their_switches_are_off(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst, own, other = await linked(client, make_instance, "no")
    ids = await everything_a_phone_does(client, inst, own, other)
    # A message after all of them: once it is notified, everything before it was handled.
    marker = await phone_sends(client, inst.partner_token, other, own, "marker")
    bodies = await notifications_until(
        client, inst, lambda seen: any(b.get("idMessage") == marker for b in seen)
    )
    assert set(kinds(bodies)) == {
        ("incomingMessageReceived", "textMessage"),
        ("incomingMessageReceived", "reactionMessage"),  # reactions have no switch of their own
        ("outgoingAPIMessageReceived", "pollMessage"),
        ("outgoingAPIMessageReceived", "extendedTextMessage"),
    }
    # The journals know all the same.
    entry = await post(
        client, inst, "getMessage", {"chatId": f"{other}@c.us", "idMessage": ids["text"]}
    )
    assert entry["isEdited"] is True and entry["isDeleted"] is True
    calls = await post_get(client, inst, "lastIncomingCalls")
    assert [(c["idMessage"], c["status"]) for c in calls] == [(ids["call"], "declined")]


async def post_get(client: httpx.AsyncClient, inst: Instance, method: str) -> Any:
    r = await client.get(inst.url(method))
    assert r.status_code == 200, r.text
    return r.json()


async def test_phone_actions_keep_to_the_rules(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst, own, other = await linked(client, make_instance, "yes")
    chat = f"{own}@c.us"
    text = await phone_sends(client, inst.partner_token, other, own, "hello")
    poll = await send(
        client,
        inst,
        "sendPoll",
        {
            "chatId": f"{other}@c.us",
            "message": "One?",
            "options": [{"optionName": "A"}, {"optionName": "B"}],
        },
    )
    await wait_inbox(client, other, inst.partner_token, 1)

    async def answer(action: str, body: Json, token: str | None = None) -> httpx.Response:
        return await client.post(
            f"/sandbox/phones/{other}/{action}",
            json=body,
            headers=bearer(token or inst.partner_token),
        )

    # Another partner cannot act as the phone: the number is not theirs.
    stranger = await make_instance()
    r = await answer(
        "edit", {"chatId": chat, "idMessage": text, "message": "x"}, stranger.partner_token
    )
    assert r.status_code == 404 and r.json() == {"error": "this number is not one of your phones"}
    # Only one's own texts are edited or deleted; only polls received are voted in.
    r = await answer("edit", {"chatId": chat, "idMessage": poll, "message": "x"})
    assert r.status_code == 400, r.text
    r = await answer("delete", {"chatId": chat, "idMessage": poll})
    assert r.status_code == 400, r.text
    r = await answer("vote", {"chatId": chat, "idMessage": text, "options": ["A"]})
    assert r.status_code == 400, r.text
    r = await answer("vote", {"chatId": chat, "idMessage": poll, "options": ["C"]})
    assert r.status_code == 400, r.text
    r = await answer("vote", {"chatId": chat, "idMessage": poll, "options": ["A", "B"]})
    assert r.json() == {"error": "this poll takes one answer"}
    r = await answer("react", {"chatId": chat, "idMessage": "0" * 20, "reaction": "x"})
    assert r.status_code == 404 and r.json() == {"error": "no such message in this chat"}
    r = await answer("call", {"chatId": chat, "outcome": "ringing"})
    assert r.status_code == 400, r.text
    r = await client.get(
        f"/sandbox/phones/{other}/presence", headers=bearer(stranger.partner_token)
    )
    assert r.status_code == 404
