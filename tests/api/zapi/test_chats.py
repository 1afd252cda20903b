"""Z-API chat routes (spec §10) on a live server, both databases: the chat list and its
paging, one chat, every modify-chat action and what it changes (the list, GREEN-API's
getChats, the other side's read receipts), the disappearing timer, a chat's messages, and
bad input refused in Z-API's error format with nothing changed."""

from __future__ import annotations

import httpx

from tests.api.zapi.zgroups import Json, ok, refused, value
from tests.sending import eventually, new_phone, phone_sends, send, wait_inbox, wait_outgoing
from tests.support import MakeInstance, MakePartner, authorize
from tests.zapi_callbacks import Linked, linked

ITEM_KEYS = {
    "archived",
    "pinned",
    "messagesUnread",
    "phone",
    "unread",
    "name",
    "lastMessageTime",
    "muteEndTime",
    "isMuted",
    "isMarkedSpam",
    "isGroupAnnouncement",
    "isGroup",
}


async def chats(inst: Linked) -> dict[str, Json]:
    listed = ok(await inst.zapi.list_chats(1, 100))
    assert isinstance(listed, list)
    return {c["phone"]: c for c in listed}


async def wait_chats(inst: Linked, *phones: str) -> dict[str, Json]:
    async def seen() -> dict[str, Json] | None:
        found = await chats(inst)
        return found if all(p in found for p in phones) else None

    return await eventually(seen, f"chats {phones} listed")


async def green_chats(client: httpx.AsyncClient, inst: Linked) -> dict[str, Json]:
    r = await client.get(inst.green.url("getChats"))
    assert r.status_code == 200, r.text
    return {c["id"]: c for c in r.json()}


async def test_chat_list_and_every_modify_chat_action(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi = inst.zapi
    # p1 is a virtual phone; p2 is another instance's phone, so read receipts show there.
    p1, p2 = new_phone(), new_phone()
    other = await make_instance()
    await authorize(client, other, p2)
    await phone_sends(client, token, p1, inst.phone, "one")
    await send(client, other, "sendMessage", {"chatId": f"{inst.phone}@c.us", "message": "two"})
    listed = await wait_chats(inst, p1, p2)

    item = listed[p1]
    assert set(item) == ITEM_KEYS
    assert (item["archived"], item["pinned"], item["isMuted"], item["unread"]) == (
        "false",
        "false",
        "0",
        "1",
    )
    assert item["isGroup"] is False and item["muteEndTime"] is None
    assert int(item["lastMessageTime"]) > 10**12  # ms, as a string
    # The newest first: p2 wrote last.
    assert [c["phone"] for c in ok(await zapi.list_chats(1, 100))][:2] == [p2, p1]
    # Paging: fixed windows.
    assert [c["phone"] for c in ok(await zapi.list_chats(1, 1))] == [p2]
    assert [c["phone"] for c in ok(await zapi.list_chats(2, 1))] == [p1]
    assert ok(await zapi.list_chats(3, 1)) == []

    one = ok(await zapi.chat(p1))
    assert one["phone"] == p1 and one["unread"] == "1" and one["isGroup"] is False
    assert ok(await client.get(zapi.path(f"chat/{p1}"))) == one

    assert value(await zapi.modify_chat(p1, "pin"))
    assert ok(await zapi.list_chats(1, 100))[0]["phone"] == p1  # pinned first
    assert (await chats(inst))[p1]["pinned"] == "true"
    assert value(await zapi.modify_chat(p1, "unpin"))
    assert (await chats(inst))[p1]["pinned"] == "false"

    assert value(await zapi.modify_chat(p1, "archive"))
    assert (await chats(inst))[p1]["archived"] == "true"
    assert (await green_chats(client, inst))[f"{p1}@c.us"]["archive"] is True
    assert value(await zapi.modify_chat(p1, "unarchive"))
    assert (await green_chats(client, inst))[f"{p1}@c.us"]["archive"] is False

    assert value(await zapi.modify_chat(p1, "mute"))
    muted = (await chats(inst))[p1]
    assert (muted["isMuted"], muted["muteEndTime"]) == ("1", -1)
    assert value(await zapi.modify_chat(p1, "unmute"))
    assert ((await chats(inst))[p1]["isMuted"], (await chats(inst))[p1]["muteEndTime"]) == (
        "0",
        None,
    )

    # read: the chat's messages are read and their sender (another instance) sees it.
    assert value(await zapi.modify_chat(p2, "read"))
    assert (await chats(inst))[p2]["unread"] == "0"
    await wait_outgoing(client, other, 1, status="read")
    assert value(await zapi.modify_chat(p2, "unread"))
    assert (await chats(inst))[p2]["unread"] == "1"
    assert value(await zapi.modify_chat(p2, "read"))
    assert (await chats(inst))[p2]["unread"] == "0"

    # clear: the chat stays, its messages are gone; delete: the chat goes until a new message.
    assert len(ok(await zapi.chat_messages(p1))) == 1
    assert value(await zapi.modify_chat(p1, "clear"))
    assert ok(await zapi.chat_messages(p1)) == []
    assert (await chats(inst))[p1]["unread"] == "0"
    assert value(await zapi.modify_chat(p1, "delete"))
    assert p1 not in await chats(inst)
    refused(await zapi.chat(p1), 404)
    await phone_sends(client, token, p1, inst.phone, "back again")
    back = await wait_chats(inst, p1)
    assert back[p1]["unread"] == "1"
    (again,) = ok(await zapi.chat_messages(p1))
    assert again["text"] == {"message": "back again"}


async def test_chat_expiration_and_chat_messages(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi, phone = inst.zapi, new_phone()
    sent = ok(await zapi.send_text(phone, "from the instance"))
    await wait_inbox(client, phone, token, 1)
    received = await phone_sends(client, token, phone, inst.phone, "from the phone")
    await wait_chats(inst, phone)

    async def both() -> list[Json] | None:
        found: list[Json] = ok(await zapi.chat_messages(phone))
        return found if len(found) == 2 else None

    newest, oldest = await eventually(both, "two messages in the chat")
    assert newest["messageId"] == received and newest["fromMe"] is False
    assert newest["text"] == {"message": "from the phone"} and "type" not in newest
    assert newest["phone"] == phone and newest["isGroup"] is False
    assert oldest["messageId"] == sent["messageId"] and oldest["fromMe"] is True
    assert oldest["text"]["message"] == "from the instance"
    assert [m["messageId"] for m in ok(await zapi.chat_messages(phone, amount=1))] == [received]
    older = ok(await zapi.chat_messages(phone, lastMessageId=received))
    assert [m["messageId"] for m in older] == [sent["messageId"]]

    for name, seconds in (("7_DAYS", 604_800), ("OFF", 0), ("90_DAYS", 7_776_000)):
        assert value(await zapi.chat_expiration(phone, name))
        green = (await green_chats(client, inst))[f"{phone}@c.us"]
        assert green["ephemeralExpiration"] == seconds


async def test_bad_chat_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi, phone = inst.zapi, new_phone()
    await phone_sends(client, token, phone, inst.phone, "hi")
    before = await wait_chats(inst, phone)
    green_before = await green_chats(client, inst)

    for body in (
        {"phone": phone, "action": "explode"},
        {"phone": phone, "action": "ARCHIVE"},
        {"phone": "abc", "action": "pin"},
        {"phone": "123", "action": "pin"},
        {"phone": phone},
        {"action": "pin"},
        {"phone": int(phone), "action": "pin"},
    ):
        refused(await zapi.post("modify-chat", body))
    for body in (
        {"phone": phone, "chatExpiration": "1_DAY"},
        {"phone": phone, "chatExpiration": 86400},
        {"phone": "x", "chatExpiration": "OFF"},
    ):
        refused(await zapi.post("send-chat-expiration", body))
    r = await client.post(
        zapi.path("modify-chat"),
        content=b'{"phone": "%s", "action": "pin"}' % phone.encode(),
        headers={"Content-Type": "text/plain"},
    )
    refused(r, 415)
    for page, size in (("0", "1"), ("1", "0"), ("x", "1"), ("1", "1001"), ("", "1"), ("1", "")):
        refused(await zapi.list_chats(page, size))
    refused(await client.get(zapi.path("chats"), params={"pageSize": "5"}))
    refused(await zapi.chat("not-a-phone"))
    refused(await zapi.chat(new_phone()), 404)
    refused(await zapi.chat_messages(phone, amount=0))
    refused(await zapi.chat_messages(phone, amount="many"))
    refused(await zapi.chat_messages(phone, lastMessageId="NOSUCHMESSAGE"))

    assert await chats(inst) == before
    assert await green_chats(client, inst) == green_before
