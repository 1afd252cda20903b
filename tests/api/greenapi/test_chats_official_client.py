"""Chats, message actions and call journals with the official GREEN-API Python client against a
live fleetgate, on each database: every method of its ``serviceMethods`` group, the call
journals and the interactive-button sends, each with its documented answer and its effect on
the other side of the sandbox network (the phone's inbox, what it sees typed)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from whatsapp_api_client_python.API import GreenAPI
from whatsapp_api_client_python.response import Response

from tests.sending import (
    ID_MESSAGE,
    Json,
    bearer,
    eventually,
    inbox,
    new_phone,
    notifications_until,
    phone_sends,
    wait_inbox,
)
from tests.support import Instance, LiveServer, MakeInstance, authorize

# Off: the tests read the journals, not notifications (the switch tests are apart).
QUIET = {"incomingWebhook": "no", "outgoingAPIMessageWebhook": "no", "outgoingWebhook": "no"}


@dataclass(frozen=True)
class Pair:
    """An instance linked to phone ``own``, a phone ``other`` of the same partner, and the
    official client on the instance."""

    inst: Instance
    own: str
    other: str
    api: GreenAPI

    @property
    def chat(self) -> str:
        return f"{self.other}@c.us"


async def linked_pair(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, **settings: object
) -> Pair:
    inst = await make_instance(**settings)
    own, other = new_phone(), new_phone()
    await inbox(client, other, inst.partner_token)  # the partner claims the other phone
    await authorize(client, inst, own)
    return Pair(inst, own, other, GreenAPI(str(inst.id), inst.token, host=server.url))


async def call(method: Callable[..., Response], *args: Any, **kwargs: Any) -> Response:
    """An official client method, run off the event loop (it is synchronous)."""
    return await asyncio.to_thread(method, *args, **kwargs)


async def ok(method: Callable[..., Response], *args: Any, **kwargs: Any) -> Any:
    got = await call(method, *args, **kwargs)
    assert got.code == 200, got.error
    return got.data


async def refused(method: Callable[..., Response], *args: Any, **kwargs: Any) -> str:
    got = await call(method, *args, **kwargs)
    assert got.code == 400, (got.code, got.data)
    assert got.error is not None
    return got.error


async def journaled(pair: Pair, id_message: str, check: Callable[[Json], bool]) -> Json:
    """getMessage's answer for ``id_message`` once ``check`` holds for it."""

    async def look() -> Json | None:
        got = await call(pair.api.journals.getMessage, pair.chat, id_message)
        return got.data if got.code == 200 and check(got.data) else None

    return await eventually(look, f"message {id_message} in the journal as expected")


async def in_inbox(
    client: httpx.AsyncClient, pair: Pair, id_message: str, check: Callable[[Json], bool]
) -> Json:
    """The other phone's inbox item ``id_message`` once ``check`` holds for it."""

    async def look() -> Json | None:
        items = {
            m["idMessage"]: m for m in await inbox(client, pair.other, pair.inst.partner_token)
        }
        item = items.get(id_message)
        return item if item is not None and check(item) else None

    return await eventually(look, f"message {id_message} in the inbox of {pair.other}")


async def presence_seen(client: httpx.AsyncClient, pair: Pair) -> dict[str, str]:
    r = await client.get(
        f"/sandbox/phones/{pair.other}/presence", headers=bearer(pair.inst.partner_token)
    )
    assert r.status_code == 200, r.text
    seen: dict[str, str] = r.json()["presence"]
    return seen


async def test_service_methods(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    pair = await linked_pair(server, client, make_instance, **QUIET)
    api, service = pair.api, pair.api.serviceMethods
    incoming = await phone_sends(client, pair.inst.partner_token, pair.other, pair.own, "hi")
    await journaled(pair, incoming, lambda m: m["type"] == "incoming")
    sent = (await ok(api.sending.sendMessage, pair.chat, "first draft"))["idMessage"]
    await wait_inbox(client, pair.other, pair.inst.partner_token, 1)
    await journaled(pair, sent, lambda m: m["statusMessage"] != "pending")

    # The chat list: the one chat, with the documented keys, not archived, no timer.
    chats = await ok(service.getChats)
    assert chats == [
        {
            "archive": False,
            "id": pair.chat,
            "ephemeralExpiration": 0,
            "ephemeralSettingTimestamp": 0,
            "name": pair.other,
            "type": "user",
        }
    ]
    assert await ok(service.getChats, 1) == chats

    # Archive and unarchive: empty answers, the flag in getChats and getContactInfo.
    assert await ok(service.archiveChat, pair.chat) == "[]"
    assert (await ok(service.getChats))[0]["archive"] is True
    assert (await ok(service.getContactInfo, pair.chat))["isArchive"] is True
    assert await ok(service.unarchiveChat, pair.chat) == "[]"
    assert (await ok(service.getChats))[0]["archive"] is False
    assert await refused(service.unarchiveChat, pair.chat) == (
        f'{{"code":400,"description":"UnarchiveChatError: chat with id {pair.chat} '
        'already archive=false"}'
    )
    assert "last message not found" in await refused(service.archiveChat, f"{new_phone()}@c.us")

    # Disappearing messages: the documented answer, then shown by getChats.
    assert await ok(service.setDisappearingChat, pair.chat, 604800) == {
        "chatId": pair.chat,
        "disappearingMessagesInChat": True,
        "ephemeralExpiration": 604800,
    }
    listed = (await ok(service.getChats))[0]
    assert listed["ephemeralExpiration"] == 604800 and listed["ephemeralSettingTimestamp"] > 0
    assert (await ok(service.getContactInfo, pair.chat))["isDisappearing"] is True
    assert "must be one of [0, 86400, 604800, 7776000]" in await refused(
        service.setDisappearingChat, pair.chat, 5
    )
    assert (await ok(service.setDisappearingChat, pair.chat))["ephemeralExpiration"] == 0

    # Edit: the answer names the message; the phone sees the new text, the journal the edit.
    assert await ok(service.editMessage, pair.chat, sent, "final text") == {"idMessage": sent}
    shown = await in_inbox(client, pair, sent, lambda m: m.get("isEdited", False))
    assert shown["text"] == "final text"
    entry = await journaled(pair, sent, lambda m: m.get("isEdited", False))
    assert entry["textMessage"] == "final text"
    assert ID_MESSAGE.match(entry["editedMessageId"])
    assert "only a text message the instance sent" in await refused(
        service.editMessage, pair.chat, incoming, "not mine"
    )

    # Delete for everyone: the phone sees it deleted; the journal flags it.
    assert await ok(service.deleteMessage, pair.chat, sent) == "[]"
    await in_inbox(client, pair, sent, lambda m: m.get("isDeleted", False))
    await journaled(pair, sent, lambda m: m.get("isDeleted", False))
    assert "Message by id not found" in await refused(
        service.deleteMessage, pair.chat, "0123456789ABCDEF0123"
    )

    # Delete only on our side: the journal flags it, the phone is told nothing.
    mine = (await ok(api.sending.sendMessage, pair.chat, "kept over there"))["idMessage"]
    await in_inbox(client, pair, mine, lambda m: True)
    assert await ok(service.deleteMessage, pair.chat, mine, True) == "[]"
    await journaled(pair, mine, lambda m: m.get("isDeleted", False))
    marker = (await ok(api.sending.sendMessage, pair.chat, "marker"))["idMessage"]
    item = await in_inbox(client, pair, marker, lambda m: True)
    before = {m["idMessage"]: m for m in await inbox(client, pair.other, pair.inst.partner_token)}
    assert "isDeleted" not in before[mine], item
    assert all(
        m["typeMessage"] != "deletedMessage"
        or m["messageData"]["deletedMessageData"]["stanzaId"] != mine
        for m in before.values()
    )

    # Typing: an empty answer; the phone sees it as presence (typing, then recording).
    assert await ok(service.sendTyping, pair.chat) == "[]"
    await eventually(
        lambda: _seen(client, pair, "COMPOSING"), "the phone to see the instance typing"
    )
    assert await ok(service.sendTyping, pair.chat, 3000, "recording") == "[]"
    await eventually(
        lambda: _seen(client, pair, "RECORDING"), "the phone to see the instance recording"
    )
    assert "larger than or equal to 1000" in await refused(service.sendTyping, pair.chat, 500)

    # The rest of the group, already served: their documented shapes.
    assert await ok(service.checkWhatsapp, int(pair.other)) == {"existsWhatsapp": True}
    avatar = await ok(service.getAvatar, pair.chat)
    assert avatar["existsWhatsapp"] is True and "urlAvatar" in avatar
    contacts = await ok(service.getContacts)
    assert {"id": pair.chat, "name": pair.other, "contactName": pair.other, "type": "user"} in (
        contacts
    )
    info = await ok(service.getContactInfo, pair.chat)
    assert info["chatId"] == pair.chat and info["isArchive"] is False


async def _seen(client: httpx.AsyncClient, pair: Pair, status: str) -> bool:
    return (await presence_seen(client, pair)).get(f"{pair.own}@c.us") == status


async def test_interactive_buttons(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    pair = await linked_pair(
        server,
        client,
        make_instance,
        incomingWebhook="no",
        outgoingWebhook="no",
        outgoingAPIMessageWebhook="yes",
    )
    sending = pair.api.sending
    buttons = [
        {"type": "copy", "buttonId": "1", "buttonText": "Copy", "copyCode": "ABC-123"},
        {"type": "call", "buttonId": "2", "buttonText": "Call", "phoneNumber": "79001234567"},
        {"type": "url", "buttonId": "3", "buttonText": "Open", "url": "https://example.com/a"},
    ]
    first = await ok(sending.sendInteractiveButtons, pair.chat, "Pick one", buttons, "Head", "Foot")
    replies = [{"buttonId": "y", "buttonText": "Yes"}, {"buttonId": "n", "buttonText": "No"}]
    second = await ok(sending.sendInteractiveButtonsReply, pair.chat, "Agree?", replies)
    assert ID_MESSAGE.match(first["idMessage"]) and ID_MESSAGE.match(second["idMessage"])

    got = {
        m["idMessage"]: m for m in await wait_inbox(client, pair.other, pair.inst.partner_token, 2)
    }
    shown = got[first["idMessage"]]["messageData"]
    assert shown == {
        "typeMessage": "interactiveButtons",
        "interactiveButtons": {
            "header": "Head",
            "body": "Pick one",
            "footer": "Foot",
            "buttons": buttons,
        },
    }
    reply = got[second["idMessage"]]["messageData"]
    assert reply["typeMessage"] == "interactiveButtonsReply"
    assert reply["interactiveButtonsReply"]["buttons"] == [{"type": "reply", **b} for b in replies]

    bodies = await notifications_until(client, pair.inst, lambda seen: len(seen) >= 2)
    echoed = {b["idMessage"]: b for b in bodies}
    assert echoed[first["idMessage"]]["typeWebhook"] == "outgoingAPIMessageReceived"
    assert echoed[first["idMessage"]]["messageData"] == shown

    # Refused as documented: more than three buttons, a button too long, a url button without one.
    too_many = [*buttons, {"type": "copy", "buttonId": "4", "buttonText": "x", "copyCode": "y"}]
    await refused(sending.sendInteractiveButtons, pair.chat, "x", too_many)
    await refused(
        sending.sendInteractiveButtonsReply,
        pair.chat,
        "x",
        [{"buttonId": "a", "buttonText": "x" * 26}],
    )
    await refused(
        sending.sendInteractiveButtons,
        pair.chat,
        "x",
        [{"type": "url", "buttonId": "1", "buttonText": "x"}],
    )


async def test_call_journals(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    pair = await linked_pair(server, client, make_instance, **QUIET)
    journals = pair.api.journals
    for outcome in ("declined", "pickUp"):
        r = await client.post(
            f"/sandbox/phones/{pair.other}/call",
            json={"chatId": f"{pair.own}@c.us", "outcome": outcome, "isVideo": outcome == "pickUp"},
            headers=bearer(pair.inst.partner_token),
        )
        assert r.status_code == 200, r.text

    async def both() -> list[Json] | None:
        items: list[Json] = await ok(journals.lastIncomingCalls)
        return (
            items
            if len(items) == 2 and items[0]["status"] != "offer" and items[1]["status"] != "offer"
            else None
        )

    calls = await eventually(both, "two ended calls in lastIncomingCalls")
    assert {c["status"] for c in calls} == {"declined", "pickUp"}
    for c in calls:
        assert list(c) == [
            "type",
            "idMessage",
            "timestamp",
            "typeMessage",
            "chatId",
            "isVideo",
            "status",
        ]
        assert c["type"] == "incoming" and c["typeMessage"] == "incomingCall"
        assert c["chatId"] == pair.chat and c["isVideo"] is (c["status"] == "pickUp")
    assert await ok(journals.lastIncomingCalls, 5) == calls
    # Nobody calls from the instance's side in the sandbox: an empty journal.
    assert await ok(journals.lastOutgoingCalls) == []
    assert await ok(journals.lastOutgoingCalls, 60) == []
    r = await client.get(pair.inst.url("lastIncomingCalls"), params={"minutes": "x"})
    assert r.status_code == 400
