"""The official GREEN-API Python client's group methods against a live fleetgate, on both
databases; each answer's shape, and its effect as the virtual phones in the group see it."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

import httpx
from whatsapp_api_client_python.API import GreenAPI

from tests.sending import (
    Json,
    bearer,
    eventually,
    inbox,
    new_phone,
    notifications_until,
    statuses_of,
)
from tests.support import Instance, LiveServer, MakeInstance, authorize

GROUP_ID = re.compile(r"^120363[0-9]{12}@g\.us$")
DATA_KEYS = {
    "groupId",
    "owner",
    "subject",
    "creation",
    "participants",
    "subjectTime",
    "subjectOwner",
    "groupInviteLink",
    "allowParticipantsEditGroupSettings",
    "allowParticipantsSendMessages",
}
# The smallest file the media store takes for a JPEG (it tells kinds by their first bytes).
JPEG = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + bytes(64)
    + b"\xff\xd9"
)


def chat(phone: str) -> str:
    return f"{phone}@c.us"


async def phone_view(client: httpx.AsyncClient, inst: Instance, phone: str) -> dict[str, Json]:
    """The groups a virtual phone is in, by id, as it sees them."""
    r = await client.get(f"/sandbox/phones/{phone}/groups", headers=bearer(inst.partner_token))
    assert r.status_code == 200, r.text
    return {g["groupId"]: g for g in r.json()["groups"]}


async def phone_acts(
    client: httpx.AsyncClient, inst: Instance, phone: str, group: str, action: str, body: Json
) -> Json:
    r = await client.post(
        f"/sandbox/phones/{phone}/groups/{group}/{action}",
        json=body,
        headers=bearer(inst.partner_token),
    )
    assert r.status_code == 200, r.text
    answer: Json = r.json()
    return answer


async def phone_writes(
    client: httpx.AsyncClient, inst: Instance, phone: str, group: str, text: str
) -> httpx.Response:
    return await client.post(
        f"/sandbox/phones/{phone}/messages",
        json={"chatId": group, "message": text},
        headers=bearer(inst.partner_token),
    )


async def group_messages(
    client: httpx.AsyncClient, inst: Instance, phone: str, group: str, n: int
) -> list[Json]:
    """The phone's inbox messages in the group, once there are ``n``."""

    async def enough() -> list[Json] | None:
        got = [m for m in await inbox(client, phone, inst.partner_token) if m["chatId"] == group]
        return got if len(got) >= n else None

    return await eventually(enough, f"{n} messages of {group} in the inbox of {phone}")


def admins(data: Json) -> dict[str, bool]:
    return {p["id"]: p["isAdmin"] for p in data["participants"]}


async def test_official_client_group_methods_and_their_effect_on_the_members(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, tmp_path: Path
) -> None:
    inst = await make_instance(incomingWebhook="yes", outgoingWebhook="yes")
    me, a, b, c = new_phone(), new_phone(), new_phone(), new_phone()
    await authorize(client, inst, me)
    api = GreenAPI(str(inst.id), inst.token, host=server.url, media=server.url)
    call = asyncio.to_thread

    made = await call(api.groups.createGroup, "Team", [chat(a), chat(b)])
    assert made.code == 200, made.error
    assert set(made.data) == {"created", "chatId", "groupInviteLink"}
    assert made.data["created"] is True
    group: str = made.data["chatId"]
    assert GROUP_ID.match(group), group
    assert made.data["groupInviteLink"].startswith("https://chat.whatsapp.com/")

    # The members see the group, the instance's account as its owner and only admin.
    seen = (await phone_view(client, inst, a))[group]
    assert seen["subject"] == "Team"
    assert seen["owner"] == chat(me)
    assert admins(seen) == {chat(me): True, chat(a): False, chat(b): False}
    assert seen["groupInviteLink"] == ""  # a member who is no admin gets no link
    assert group in await phone_view(client, inst, b)

    data = await call(api.groups.getGroupData, group)
    assert data.code == 200, data.error
    assert set(data.data) == DATA_KEYS
    assert data.data["groupId"] == group
    assert data.data["groupInviteLink"] == made.data["groupInviteLink"]
    owner = data.data["participants"][0]
    assert owner == {"id": chat(me), "isAdmin": True, "isSuperAdmin": True}
    assert isinstance(data.data["creation"], int)

    renamed = await call(api.groups.updateGroupName, group, "Team 2")
    assert renamed.data == {"updateGroupName": True}
    assert (await phone_view(client, inst, a))[group]["subject"] == "Team 2"

    # The instance writes to the group: every member gets it in the group's chat, from us.
    sent = await call(api.sending.sendMessage, group, "hello team")
    assert sent.code == 200, sent.error
    for phone in (a, b):
        (got,) = await group_messages(client, inst, phone, group, 1)
        assert got["idMessage"] == sent.data["idMessage"]
        assert got["sender"] == chat(me)
        assert got["text"] == "hello team"

    # A member writes to the group: the instance gets it with the group as chat, them as sender.
    r = await phone_writes(client, inst, a, group, "hi from a")
    assert r.status_code == 200, r.text
    from_a = r.json()["idMessage"]
    bodies = await notifications_until(
        client,
        inst,
        lambda seen: (
            any(x.get("idMessage") == from_a for x in seen)
            and "delivered" in statuses_of(seen, sent.data["idMessage"])
        ),
    )
    (incoming,) = [x for x in bodies if x.get("idMessage") == from_a]
    assert incoming["typeWebhook"] == "incomingMessageReceived"
    assert incoming["senderData"]["chatId"] == group
    assert incoming["senderData"]["sender"] == chat(a)
    assert incoming["senderData"]["chatName"] == "Team 2"
    assert incoming["messageData"]["textMessageData"]["textMessage"] == "hi from a"
    (from_a_at_b,) = [
        m for m in await group_messages(client, inst, b, group, 2) if m["idMessage"] == from_a
    ]
    assert from_a_at_b["sender"] == chat(a)
    history = await call(api.journals.getChatHistory, group)
    assert [m["idMessage"] for m in history.data][:2] == [from_a, sent.data["idMessage"]]
    assert history.data[0]["senderId"] == chat(a)
    contacts = await call(api.serviceMethods.getContacts, True)
    assert {"id": group, "type": "group"}.items() <= next(
        x for x in contacts.data if x["id"] == group
    ).items()

    promoted = await call(api.groups.setGroupAdmin, group, chat(a))
    assert promoted.data == {"setGroupAdmin": True}
    assert admins((await phone_view(client, inst, a))[group])[chat(a)] is True
    demoted = await call(api.groups.removeAdmin, group, chat(a))
    assert demoted.data == {"removeAdmin": True}
    assert admins((await phone_view(client, inst, a))[group])[chat(a)] is False
    assert (await call(api.groups.removeAdmin, group, chat(me))).data == {"removeAdmin": False}

    added = await call(api.groups.addGroupParticipant, group, chat(c))
    assert added.data == {"addParticipant": True}
    assert group in await phone_view(client, inst, c)
    again = await call(api.groups.addGroupParticipant, group, chat(c))
    assert again.data == {"addParticipant": False}  # already a member

    picture = tmp_path / "team.jpg"
    picture.write_bytes(JPEG)
    pictured = await call(api.groups.setGroupPicture, group, str(picture))
    assert pictured.code == 200, pictured.error
    assert set(pictured.data) == {"setGroupPicture", "urlAvatar", "reason"}
    assert pictured.data["setGroupPicture"] is True
    assert pictured.data["reason"] == ""
    shown = await client.get(pictured.data["urlAvatar"])
    assert shown.status_code == 200
    assert shown.content == JPEG

    # Only admins may write once the settings say so: a member who is none is refused.
    settings = await call(api.groups.updateGroupSettings, group, None, False)
    assert settings.data == {"updateGroupSettings": True}
    assert (await phone_view(client, inst, b))[group]["allowParticipantsSendMessages"] is False
    refused = await phone_writes(client, inst, b, group, "may I?")
    assert refused.status_code == 400
    assert refused.json() == {"error": "only admins may send messages to this group"}
    await call(api.groups.updateGroupSettings, group, None, True)

    removed = await call(api.groups.removeGroupParticipant, group, chat(b))
    assert removed.data == {"removeParticipant": True}
    assert group not in await phone_view(client, inst, b)
    refused = await phone_writes(client, inst, b, group, "still here?")
    assert refused.status_code == 400
    assert refused.json() == {"error": "not a member of the group"}
    # A member who is no admin cannot remove anyone.
    assert await phone_acts(client, inst, a, group, "remove", {"participantChatId": chat(c)}) == {
        "done": False,
        "reason": "NOT_ENOUGH_RIGHTS",
    }

    left = await call(api.groups.leaveGroup, group)
    assert left.data == {"leaveGroup": True}
    after = (await phone_view(client, inst, a))[group]
    assert chat(me) not in admins(after)
    # Left without an admin, the group makes its longest member one.
    assert admins(after) == {chat(a): True, chat(c): False}

    # Writing to a group we left: the message is refused with the notInGroup status.
    late = await call(api.sending.sendMessage, group, "anyone?")
    assert late.code == 200, late.error
    bodies = await notifications_until(
        client, inst, lambda seen: bool(statuses_of(seen, late.data["idMessage"]))
    )
    (status,) = [
        x
        for x in bodies
        if x["typeWebhook"] == "outgoingMessageStatus" and x["idMessage"] == late.data["idMessage"]
    ]
    assert status["status"] == "notInGroup"
    assert status["chatId"] == group
    assert len(await group_messages(client, inst, a, group, 1)) == 1  # nothing new reached a
    assert (await call(api.groups.leaveGroup, group)).data == {"leaveGroup": False}
    outgoing = (await client.get(inst.url("lastOutgoingMessages"))).json()
    assert outgoing[0]["idMessage"] == late.data["idMessage"]
    assert outgoing[0]["statusMessage"] == "notInGroup"


async def test_a_phones_group_with_the_instance_as_a_member_who_is_no_admin(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(incomingWebhook="yes")
    me, owner, other = new_phone(), new_phone(), new_phone()
    await authorize(client, inst, me)
    api = GreenAPI(str(inst.id), inst.token, host=server.url, media=server.url)
    call = asyncio.to_thread
    r = await client.post(
        f"/sandbox/phones/{owner}/groups",
        json={"groupName": "Phones", "chatIds": [chat(me)]},
        headers=bearer(inst.partner_token),
    )
    assert r.status_code == 200, r.text
    group = r.json()["chatId"]

    data = await call(api.groups.getGroupData, group)
    assert data.data["owner"] == chat(owner)
    assert data.data["groupInviteLink"] == ""  # we are no admin
    assert admins(data.data) == {chat(owner): True, chat(me): False}
    # No admin: every change is refused with false, and nothing changes.
    for method, key in (
        (api.groups.addGroupParticipant, "addParticipant"),
        (api.groups.setGroupAdmin, "setGroupAdmin"),
    ):
        assert (await call(method, group, chat(other))).data == {key: False}
    assert (await call(api.groups.removeGroupParticipant, group, chat(owner))).data == {
        "removeParticipant": False
    }
    settings = await call(api.groups.updateGroupSettings, group, False)
    assert settings.data == {"updateGroupSettings": False, "reason": "NOT_ENOUGH_RIGHTS"}
    assert (await phone_view(client, inst, owner))[group]["participants"] == data.data[
        "participants"
    ]
    # Members may rename while the settings allow it; the owner then forbids it.
    assert (await call(api.groups.updateGroupName, group, "Ours")).data == {"updateGroupName": True}
    done = await phone_acts(
        client, inst, owner, group, "settings", {"allowParticipantsEditGroupSettings": False}
    )
    assert done == {"done": True, "reason": ""}
    assert (await call(api.groups.updateGroupName, group, "Mine")).data == {
        "updateGroupName": False
    }
    assert (await phone_view(client, inst, owner))[group]["subject"] == "Ours"

    # The owner promotes us: now we may add.
    assert await phone_acts(
        client, inst, owner, group, "promote", {"participantChatId": chat(me)}
    ) == {"done": True, "reason": ""}
    assert (await call(api.groups.addGroupParticipant, group, chat(other))).data == {
        "addParticipant": True
    }
    r = await phone_writes(client, inst, owner, group, "welcome")
    bodies = await notifications_until(
        client, inst, lambda seen: any(x.get("idMessage") == r.json()["idMessage"] for x in seen)
    )
    assert bodies[-1]["senderData"]["chatId"] == group
    assert bodies[-1]["senderData"]["sender"] == chat(owner)

    # The owner removes us: our messages to the group get notInGroup.
    assert await phone_acts(
        client, inst, owner, group, "remove", {"participantChatId": chat(me)}
    ) == {"done": True, "reason": ""}
    sent = await call(api.sending.sendMessage, group, "still there?")
    outgoing: list[Json] = await eventually(
        lambda: _outgoing_with(client, inst, sent.data["idMessage"], "notInGroup"),
        "notInGroup in the outgoing journal",
    )
    assert outgoing[0]["chatId"] == group


async def _outgoing_with(
    client: httpx.AsyncClient, inst: Instance, id_message: str, status: str
) -> list[Json] | None:
    items: list[Json] = (await client.get(inst.url("lastOutgoingMessages"))).json()
    return items if items and items[0]["statusMessage"] == status else None


async def test_group_methods_answer_errors_as_documented(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    api = GreenAPI(str(inst.id), inst.token, host=server.url, media=server.url)
    call = asyncio.to_thread
    # Not authorized: no groups at all.
    made = await call(api.groups.createGroup, "Team", [chat(new_phone())])
    assert made.code == 400
    r = await client.post(inst.url("getGroupData"), json={"groupId": "120363000000000001@g.us"})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": "instance account not authorized"}

    await authorize(client, inst, new_phone())
    bad: list[tuple[str, Any, str]] = [
        ("createGroup", {"groupName": "", "chatIds": []}, "groupName"),
        ("createGroup", {"groupName": "x" * 101, "chatIds": []}, "groupName"),
        ("createGroup", {"groupName": "x", "chatIds": ["120363000000000001@g.us"]}, "no groups"),
        ("getGroupData", {"groupId": "79001234567@c.us"}, "groupId"),
        ("addGroupParticipant", {"groupId": "1203630001@g.us", "participantChatId": "x"}, "part"),
    ]
    for method, body, text in bad:
        r = await client.post(inst.url(method), json=body)
        assert r.status_code == 400, (method, r.text)
        assert text in r.json()["description"], (method, r.text)
    r = await client.post(inst.url("getGroupData"), json={"groupId": "120363000000000001@g.us"})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": "group not found"}
    r = await client.post(
        inst.url("setGroupPicture"),
        data={"groupId": "120363000000000001@g.us"},
        files={"file": ("x.jpg", JPEG, "image/jpeg")},
    )
    assert r.json() == {"setGroupPicture": False, "urlAvatar": None, "reason": "group not found"}
    r = await client.post(
        inst.url("setGroupPicture"),
        data={"groupId": "120363000000000001@g.us"},
        files={"file": ("x.txt", b"plain text", "image/jpeg")},
    )
    assert r.status_code == 400
    assert r.json()["description"] == "Unsupported media type"
    # Method names fold case, as the other GREEN-API methods do.
    r = await client.post(inst.url("GETGROUPDATA"), json={"groupId": "120363000000000001@g.us"})
    assert r.json()["description"] == "group not found"


async def test_phone_group_routes_keep_to_the_phones_partner(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    mine, theirs = await make_instance(), await make_instance()
    owner, member = new_phone(), new_phone()
    r = await client.post(
        f"/sandbox/phones/{owner}/groups",
        json={"groupName": "Ours", "chatIds": [chat(member)]},
        headers=bearer(mine.partner_token),
    )
    assert r.status_code == 200, r.text
    group = r.json()["chatId"]
    # The member first named by our phone is ours too; another partner acts as neither.
    assert group in await phone_view(client, mine, member)
    for phone in (owner, member):
        r = await client.get(
            f"/sandbox/phones/{phone}/groups", headers=bearer(theirs.partner_token)
        )
        assert r.status_code == 404
        assert r.json() == {"error": "this number is not one of your phones"}
        r = await phone_writes(client, theirs, phone, group, "hi")
        assert r.status_code == 404
    r = await client.post(
        f"/sandbox/phones/{owner}/groups/{group}/explode",
        json={},
        headers=bearer(mine.partner_token),
    )
    assert r.status_code == 400
    r = await client.get(
        f"/sandbox/phones/{owner}/groups/120363000000000001@g.us",
        headers=bearer(mine.partner_token),
    )
    assert r.status_code == 404
    assert r.json() == {"error": "group not found"}
    assert await phone_acts(client, mine, member, group, "leave", {}) == {
        "done": True,
        "reason": "",
    }
    assert await phone_acts(client, mine, member, group, "leave", {}) == {
        "done": False,
        "reason": "not a member of the group",
    }
    r = await phone_writes(client, mine, owner, group, "alone")
    assert r.status_code == 200, r.text


async def test_two_instances_in_a_group_read_receipts_go_to_each_author(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    owner_inst = await make_instance(incomingWebhook="yes")
    member_inst = await make_instance(owner_inst.partner_token, outgoingWebhook="yes")
    owner_phone, member_phone, other = new_phone(), new_phone(), new_phone()
    await authorize(client, owner_inst, owner_phone)
    await authorize(client, member_inst, member_phone)
    owner_api = GreenAPI(str(owner_inst.id), owner_inst.token, host=server.url)
    call = asyncio.to_thread
    made = await call(owner_api.groups.createGroup, "Pair", [chat(member_phone), chat(other)])
    group = made.data["chatId"]
    # Unknown groups and wrong members are refused with false, changing nothing.
    unknown = "120363000000000002@g.us"
    assert (await call(owner_api.groups.updateGroupName, unknown, "x")).data == {
        "updateGroupName": False
    }
    assert (await call(owner_api.groups.removeGroupParticipant, group, chat(new_phone()))).data == {
        "removeParticipant": False
    }

    member_api = GreenAPI(str(member_inst.id), member_inst.token, host=server.url)
    sent = await call(member_api.sending.sendMessage, group, "from the member instance")
    id_message = sent.data["idMessage"]
    bodies = await notifications_until(
        client, owner_inst, lambda seen: any(x.get("idMessage") == id_message for x in seen)
    )
    assert bodies[-1]["senderData"]["sender"] == chat(member_phone)
    assert bodies[-1]["senderData"]["chatId"] == group
    (at_other,) = await group_messages(client, owner_inst, other, group, 1)
    assert at_other["sender"] == chat(member_phone)

    # The owner reads the group's chat: the author (the member instance) gets "read".
    r = await client.post(owner_inst.url("readChat"), json={"chatId": group})
    assert r.json() == {"setRead": True}
    seen = await notifications_until(
        client, member_inst, lambda seen: "read" in statuses_of(seen, id_message)
    )
    assert statuses_of(seen, id_message)[-1] == "read"


async def test_a_phone_sends_the_instance_a_private_group_invite(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(incomingWebhook="yes")
    me, owner, member = new_phone(), new_phone(), new_phone()
    await authorize(client, inst, me)
    r = await client.post(
        f"/sandbox/phones/{owner}/groups",
        json={"groupName": "Invited", "chatIds": [chat(member)]},
        headers=bearer(inst.partner_token),
    )
    group, link = r.json()["chatId"], r.json()["groupInviteLink"]
    invite = f"/sandbox/phones/{owner}/groups/{group}/invite"
    r = await client.post(
        invite, json={"chatId": chat(me), "caption": "join us"}, headers=bearer(inst.partner_token)
    )
    assert r.status_code == 200, r.text
    id_message = r.json()["idMessage"]
    bodies = await notifications_until(
        client, inst, lambda seen: any(x.get("idMessage") == id_message for x in seen)
    )
    got = bodies[-1]
    assert got["typeWebhook"] == "incomingMessageReceived"
    assert got["senderData"]["chatId"] == chat(owner)  # a private message, not in the group
    assert got["messageData"] == {
        "typeMessage": "groupInviteMessage",
        "groupInviteMessageData": {
            "groupJid": group,
            "inviteCode": link.removeprefix("https://chat.whatsapp.com/"),
            "inviteExpiration": "0",
            "groupName": "Invited",
            "caption": "join us",
            "name": owner,
            "jpegThumbnail": "",
        },
    }
    # Only an admin has the invite code to send.
    r = await client.post(
        f"/sandbox/phones/{member}/groups/{group}/invite",
        json={"chatId": chat(me)},
        headers=bearer(inst.partner_token),
    )
    assert (r.status_code, r.json()) == (400, {"error": "NOT_ENOUGH_RIGHTS"})
    r = await client.post(
        f"/sandbox/phones/{owner}/groups/120363000000000003@g.us/invite",
        json={"chatId": chat(me)},
        headers=bearer(inst.partner_token),
    )
    assert (r.status_code, r.json()) == (404, {"error": "group not found"})
