"""Z-API group callbacks pushed to a real local receiver, on both databases: group messages
(ReceivedCallback with the group as ``phone`` and the author as ``participantPhone``) and
group notifications (GROUP_CREATE, GROUP_PARTICIPANT_ADD, ... with the participants they
concern in ``notificationParameters``), whoever made the change: the instance or a virtual
phone. GREEN-API gets no group-change notification (its spec §8)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import httpx
import pytest

from tests.api.zapi.zgroups import JPEG, JPEG_URI, Json, g_us, ok, phone_acts, refused, value
from tests.receiver import Receiver, running_receiver
from tests.sending import bearer, eventually, new_phone, phone_sends
from tests.support import MakePartner
from tests.zapi_callbacks import linked, wait_body


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as r:
        yield r


def notifications(receiver: Receiver, name: str) -> list[Json]:
    return [r.body for r in receiver.of(name) if "notification" in r.body]


async def test_group_changes_are_notified_to_every_member_instance(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {"received": receiver.hook("me")})
    member = await linked(client, token, {"received-delivery": receiver.hook("member")})
    r = await client.post(
        inst.green.url("setSettings"),
        json={"webhookUrl": receiver.hook("green"), "incomingWebhook": "yes"},
    )
    assert r.status_code == 200, r.text
    me, zapi, a, c = inst.phone, inst.zapi, new_phone(), new_phone()

    group = ok(await zapi.create_group("Team", [a, member.phone]))["phone"]
    created = await wait_body(receiver, "me", {"notification": "GROUP_CREATE"})
    assert created["type"] == "ReceivedCallback"
    assert created["phone"] == group and created["isGroup"] is True
    assert created["chatName"] == "Team"
    assert sorted(created["notificationParameters"]) == sorted([a, member.phone])
    assert created["participantPhone"] == me and created["fromMe"] is True
    assert created["instanceId"] == zapi.id and created["connectedPhone"] == me
    assert "text" not in created
    seen_by_member = await wait_body(receiver, "member", {"notification": "GROUP_CREATE"})
    assert seen_by_member["fromMe"] is False and seen_by_member["phone"] == group
    assert seen_by_member["connectedPhone"] == member.phone

    # A phone of the group changes it: the instance hears of it, the phone as its author.
    assert value(await zapi.group_call("add-admin", group, phones=[a]))
    promoted = await wait_body(receiver, "me", {"notification": "GROUP_PARTICIPANT_PROMOTE"})
    assert promoted["notificationParameters"] == [a]
    renamed = await phone_acts(client, token, a, group, "name", {"groupName": "Renamed"})
    assert renamed == {"done": True, "reason": ""}
    subject = await wait_body(receiver, "me", {"notification": "GROUP_CHANGE_SUBJECT"})
    assert subject["notificationParameters"] == ["Renamed"] and subject["chatName"] == "Renamed"
    assert subject["participantPhone"] == a and subject["fromMe"] is False

    steps: list[tuple[str, Json, str, list[str]]] = [
        ("add-participant", {"phones": [c]}, "GROUP_PARTICIPANT_ADD", [c]),
        ("remove-participant", {"phones": [c]}, "GROUP_PARTICIPANT_REMOVE", [c]),
        ("remove-admin", {"phones": [a]}, "GROUP_PARTICIPANT_DEMOTE", [a]),
        (
            "update-group-description",
            {"groupDescription": "About"},
            "GROUP_CHANGE_DESCRIPTION",
            ["About"],
        ),
    ]
    for route, body, kind, parameters in steps:
        assert value(await zapi.group_call(route, group, **body)), route
        got = await wait_body(receiver, "me", {"notification": kind})
        assert got["notificationParameters"] == parameters, kind
    assert value(await zapi.post("update-group-photo", {"groupId": group, "groupPhoto": JPEG_URI}))
    icon = await wait_body(receiver, "me", {"notification": "GROUP_CHANGE_ICON"})
    assert icon["notificationParameters"] == []
    assert value(
        await zapi.post("update-group-settings", {"phone": group, "adminOnlyMessage": True})
    )
    announce = await wait_body(receiver, "me", {"notification": "GROUP_CHANGE_ANNOUNCE"})
    assert announce["notificationParameters"] == ["on"]
    assert value(
        await zapi.post("update-group-settings", {"phone": group, "requireAdminApproval": True})
    )
    mode = await wait_body(receiver, "me", {"notification": "GROUP_MEMBERSHIP_JOIN_APPROVAL_MODE"})
    assert mode["notificationParameters"] == ["on"]

    # Join requests reach the admins with how they came.
    link = ok(await zapi.invitation_link(group))["invitationLink"]
    joiner = new_phone()
    await phone_acts(client, token, joiner, group, "join", {"inviteLink": link})
    request = await wait_body(receiver, "me", {"notification": "MEMBERSHIP_APPROVAL_REQUEST"})
    assert request["notificationParameters"] == [joiner]
    assert request["requestMethod"] == "invite_link"
    assert value(await zapi.group_call("approve-participant", group, phones=[joiner]))
    approved = await wait_body(
        receiver,
        "me",
        {"notification": "GROUP_PARTICIPANT_ADD", "notificationParameters": [joiner]},
    )
    assert approved["participantPhone"] == me

    # The member instance is removed: it is told too, though no longer a member.
    assert value(await zapi.group_call("remove-participant", group, phones=[member.phone]))
    removed = await wait_body(
        receiver,
        "member",
        {"notification": "GROUP_PARTICIPANT_REMOVE", "notificationParameters": [member.phone]},
    )
    assert removed["participantPhone"] == me and removed["fromMe"] is False
    left = await phone_acts(client, token, a, group, "leave", {})
    assert left["done"] is True
    leave = await wait_body(receiver, "me", {"notification": "GROUP_PARTICIPANT_LEAVE"})
    assert leave["notificationParameters"] == [a] and leave["participantPhone"] == a
    # Nothing for the member after its removal (a barrier: a message it gets now).
    barrier = await phone_sends(client, token, new_phone(), member.phone, "barrier")
    await wait_body(receiver, "member", {"messageId": barrier})
    after = [b["notification"] for b in notifications(receiver, "member")]
    assert after[-1] == "GROUP_PARTICIPANT_REMOVE", after

    # GREEN-API's webhook got none of it (a barrier: a message that reaches it afterwards).
    barrier = await phone_sends(client, token, new_phone(), me, "barrier")
    await wait_body(receiver, "green", {"idMessage": barrier})
    kinds = {r.body["typeWebhook"] for r in receiver.of("green")}
    assert kinds <= {"incomingMessageReceived", "stateInstanceChanged"}, kinds
    assert all("notification" not in r.body for r in receiver.of("green"))


async def test_a_group_message_names_the_group_and_its_author(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {"received": receiver.hook("me")})
    author = new_phone()
    group = ok(await inst.zapi.create_group("Chat", [author]))["phone"]
    r = await client.post(
        f"/sandbox/phones/{author}/messages",
        json={"chatId": g_us(group), "message": "hello group"},
        headers=bearer(token),
    )
    assert r.status_code == 200, r.text
    id_message = r.json()["idMessage"]
    got = await wait_body(receiver, "me", {"messageId": id_message})
    assert got["type"] == "ReceivedCallback" and "notification" not in got
    assert got["isGroup"] is True and got["phone"] == group
    assert got["participantPhone"] == author
    assert got["chatName"] == "Chat" and got["senderName"] == author
    assert got["fromMe"] is False and got["text"] == {"message": "hello group"}

    # The group's chat: listed under its id, and modify-chat takes the group id.
    async def listed() -> dict[str, Json] | None:
        found = {c["phone"]: c for c in ok(await inst.zapi.list_chats(1, 50))}
        return found if group in found else None

    chat = (await eventually(listed, "the group's chat listed"))[group]
    assert chat["isGroup"] is True and chat["name"] == group and chat["unread"] == "1"
    assert value(await inst.zapi.modify_chat(group, "pin"))
    (item,) = [g for g in ok(await inst.zapi.list_groups(1, 50)) if g["phone"] == group]
    assert item["pinned"] == "true" and item["name"] == "Chat" and item["unread"] == "1"
    (message,) = ok(await inst.zapi.chat_messages(group))
    assert message["messageId"] == id_message and message["participantPhone"] == author


async def test_group_photo_by_url_own_link_or_refused(
    client: httpx.AsyncClient, make_partner: MakePartner, receiver: Receiver
) -> None:
    """update-group-photo fetches a URL (as media sends do), reads a link fleetgate gave from
    its store, and refuses a URL it cannot fetch or that is no image, changing nothing."""
    token = await make_partner()
    inst = await linked(client, token, {"received": receiver.hook("me")})
    group = ok(await inst.zapi.create_group("Pictures", [new_phone()]))["phone"]
    url = receiver.serve(f"{secrets.token_hex(4)}.jpg", JPEG)
    assert value(await inst.zapi.post("update-group-photo", {"groupId": group, "groupPhoto": url}))
    await wait_body(receiver, "me", {"notification": "GROUP_CHANGE_ICON"})

    r = await client.post(
        inst.green.url("setProfilePicture"), files={"file": ("me.jpg", JPEG, "image/jpeg")}
    )
    own = r.json()["urlAvatar"]
    assert value(await inst.zapi.post("update-group-photo", {"groupId": group, "groupPhoto": own}))
    icons = await receiver.wait_for("me", 3)  # create, and two pictures
    assert sum(1 for g in icons if g.body.get("notification") == "GROUP_CHANGE_ICON") == 2

    text = receiver.serve(f"{secrets.token_hex(4)}.txt", b"plain text, no image")
    for bad in (text, receiver.url + "/missing", "http://" + "x" * 2100):
        refused(await inst.zapi.post("update-group-photo", {"groupId": group, "groupPhoto": bad}))
    # Nothing more happened to the group (a barrier: a later change arrives alone).
    assert value(await inst.zapi.group_call("update-group-name", group, groupName="After"))
    await wait_body(receiver, "me", {"notification": "GROUP_CHANGE_SUBJECT"})
    kinds = [b.body.get("notification") for b in receiver.of("me")]
    assert kinds.count("GROUP_CHANGE_ICON") == 2, kinds
