"""The chat methods' refusals and less common paths, over HTTP on each database: an instance
not authorized, bad parameters, an edit of a reply, a deletion repeated, and calls the
account's own phone places (reported by an engine through the runner's SessionEvents)."""

from __future__ import annotations

import httpx

from fleetgate.context import Context
from fleetgate.domain.chats import CallStatus
from fleetgate.engines.base import CallEvent
from fleetgate.runner.events import InstanceEvents
from tests.sending import (
    bearer,
    eventually,
    inbox,
    new_phone,
    notifications_until,
    post,
    send,
    wait_inbox,
)
from tests.support import MakeInstance, authorize


async def refused(client: httpx.AsyncClient, url: str, body: object, text: str) -> None:
    r = await client.post(url, json=body)
    assert r.status_code == 400, r.text
    assert text in r.json()["description"], r.text


async def test_refusals(client: httpx.AsyncClient, make_instance: MakeInstance) -> None:
    inst = await make_instance()
    chat = f"{new_phone()}@c.us"
    # Not authorized: nothing reaches an engine.
    await refused(client, inst.url("sendTyping"), {"chatId": chat}, "not authorized")
    await refused(
        client, inst.url("setDisappearingChat"), {"chatId": chat}, "instance account not authorized"
    )
    # typingTime as GREEN-API checks it.
    for value, text in (
        ("x", "must be a number"),
        (True, "must be a number"),
        (20001, "less than or equal to 20000"),
    ):
        await refused(client, inst.url("sendTyping"), {"chatId": chat, "typingTime": value}, text)
    r = await client.get(inst.url("getChats"), params={"count": "many"})
    assert r.status_code == 400, r.text
    r = await client.get(inst.url("getChats"), params={"count": ""})
    assert r.status_code == 200 and r.json() == []
    buttons = [{"buttonId": "1", "buttonText": "a"}, {"buttonId": "1", "buttonText": "b"}]
    await refused(
        client,
        inst.url("sendInteractiveButtonsReply"),
        {"chatId": chat, "body": "x", "buttons": buttons},
        "buttonId must be different",
    )


async def test_edit_of_a_reply_and_repeated_deletion(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(
        incomingWebhook="no",
        outgoingWebhook="no",
        outgoingAPIMessageWebhook="yes",
        deletedMessageWebhook="yes",
        stateWebhook="no",
    )
    own, other = new_phone(), new_phone()
    await inbox(client, other, inst.partner_token)
    await authorize(client, inst, own)
    chat = f"{other}@c.us"
    first = await send(client, inst, "sendMessage", {"chatId": chat, "message": "one"})
    reply = await send(
        client, inst, "sendMessage", {"chatId": chat, "message": "two", "quotedMessageId": first}
    )
    await wait_inbox(client, other, inst.partner_token, 2)

    async def sent(id_message: str) -> dict[str, object] | None:
        # The phone may see the message a moment before the runner records it sent; until
        # then getMessage answers 404 (it shows no queued message).
        r = await client.post(
            inst.url("getMessage"), json={"chatId": chat, "idMessage": id_message}
        )
        if r.status_code == 404:
            return None
        assert r.status_code == 200, r.text
        entry: dict[str, object] = r.json()
        return entry if entry["statusMessage"] != "pending" else None

    await eventually(lambda: sent(reply), "the reply sent")
    await post(client, inst, "editMessage", {"chatId": chat, "idMessage": reply, "message": "2"})
    entry = await post(client, inst, "getMessage", {"chatId": chat, "idMessage": reply})
    assert entry["isEdited"] is True and entry["textMessage"] == "2"

    # A second deletion changes nothing and is not notified again; an edit after it is refused.
    for _ in range(2):
        r = await client.post(inst.url("deleteMessage"), json={"chatId": chat, "idMessage": first})
        assert r.status_code == 200 and r.content == b"", r.text
    await refused(
        client,
        inst.url("editMessage"),
        {"chatId": chat, "idMessage": first, "message": "x"},
        "Message by id not found",
    )
    marker = await send(client, inst, "sendMessage", {"chatId": chat, "message": "marker"})
    bodies = await notifications_until(
        client, inst, lambda seen: any(b.get("idMessage") == marker for b in seen)
    )
    deletions = [b for b in bodies if b["messageData"].get("typeMessage") == "deletedMessage"]
    assert [d["messageData"]["deletedMessageData"]["stanzaId"] for d in deletions] == [first]

    # What the phone sees typed, for one chat.
    await client.post(inst.url("sendTyping"), json={"chatId": chat})
    own_chat = f"{own}@c.us"

    async def typing() -> dict[str, str] | None:
        r = await client.get(
            f"/sandbox/phones/{other}/presence",
            params={"chatId": own_chat},
            headers=bearer(inst.partner_token),
        )
        seen: dict[str, str] = r.json()["presence"]
        return seen or None

    assert await eventually(typing, "the phone to see typing") == {own_chat: "COMPOSING"}
    r = await client.get(
        f"/sandbox/phones/{other}/presence",
        params={"chatId": f"{new_phone()}@c.us"},
        headers=bearer(inst.partner_token),
    )
    assert r.json() == {"presence": {}}


async def test_calls_the_accounts_phone_places(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    inst = await make_instance()
    events = InstanceEvents(ctx.db, ctx.signals, ctx.media, inst.id, kick=lambda _: None)
    chat = f"{new_phone()}@c.us"
    for status in (CallStatus.OFFER, CallStatus.PICK_UP, CallStatus.HANG_UP, CallStatus.HANG_UP):
        await events.call(
            CallEvent(id_call="C1", chat_id=chat, status=status, is_video=True, from_me=True)
        )
    r = await client.get(inst.url("lastOutgoingCalls"))
    assert r.status_code == 200, r.text
    [item] = r.json()
    assert list(item) == [
        "type",
        "idMessage",
        "timestamp",
        "typeMessage",
        "chatId",
        "duration",
        "isVideo",
        "status",
    ]
    assert item["type"] == "outgoing" and item["typeMessage"] == "outgoingCall"
    assert item["chatId"] == chat and item["status"] == "hangUp" and item["isVideo"] is True
    assert item["duration"] >= 0
    r = await client.get(inst.url("lastIncomingCalls"))
    assert r.json() == []
