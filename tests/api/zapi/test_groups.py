"""Z-API group routes (spec §11) on a live server, both databases: each answer's shape, its
effect as the virtual phones in the group see it, refusals as ``{"value": false}``, and bad
input refused in Z-API's error format with nothing changed."""

from __future__ import annotations

import re

import httpx

from tests.api.zapi.zgroups import (
    JPEG_URI,
    g_us,
    members,
    metadata,
    ok,
    phone_acts,
    phone_creates_group,
    phone_groups,
    refused,
    value,
    zmembers,
)
from tests.sending import bearer, new_phone
from tests.support import MakePartner
from tests.zapi_callbacks import linked
from tests.zapi_client import ZapiPartner

GROUP = re.compile(r"^120363[0-9]{12}-group$")
LINK = re.compile(r"^https://chat\.whatsapp\.com/[A-Za-z0-9]{22}$")
METADATA_KEYS = {
    "phone",
    "description",
    "owner",
    "subject",
    "creation",
    "invitationLink",
    "invitationLinkError",
    "communityId",
    "adminOnlyMessage",
    "adminOnlySettings",
    "requireAdminApproval",
    "adminOnlyAddMember",
    "isGroupAnnouncement",
    "participants",
    "subjectTime",
    "subjectOwner",
}


async def test_group_routes_and_what_the_members_see(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    me, zapi = inst.phone, inst.zapi
    a, b, c, d = new_phone(), new_phone(), new_phone(), new_phone()

    made = ok(await zapi.create_group("Team", [a, b], auto_invite=True))
    assert set(made) == {"phone", "invitationLink", "phonesNotAdded"}
    group = made["phone"]
    assert GROUP.match(group), group
    assert LINK.match(made["invitationLink"])
    assert made["phonesNotAdded"] == []
    seen = (await phone_groups(client, token, a))[g_us(group)]
    assert seen["subject"] == "Team" and seen["owner"] == f"{me}@c.us"
    assert members(seen) == {me: True, a: False, b: False}

    meta = await metadata(inst, group)
    assert set(meta) == METADATA_KEYS
    assert meta["phone"] == group and meta["owner"] == me and meta["subject"] == "Team"
    assert meta["invitationLink"] == made["invitationLink"]
    assert meta["invitationLinkError"] is None
    assert isinstance(meta["creation"], int) and meta["creation"] > 10**12  # ms
    assert meta["participants"][0] == {"phone": me, "isAdmin": True, "isSuperAdmin": True}
    assert zmembers(meta) == {me: True, a: False, b: False}
    assert meta["adminOnlyMessage"] is False and meta["requireAdminApproval"] is False
    light = ok(await zapi.group_metadata(group, light=True))
    assert light["invitationLink"] is None and light["subject"] == "Team"
    # The group id is taken as <id>-group, <id>@g.us and bare digits alike.
    for alias in (g_us(group), group.removesuffix("-group")):
        assert (await metadata(inst, alias))["phone"] == group

    assert value(await zapi.group_call("update-group-name", group, groupName="Team 2"))
    assert (await phone_groups(client, token, b))[g_us(group)]["subject"] == "Team 2"
    assert value(
        await zapi.group_call("update-group-description", group, groupDescription="About us")
    )
    assert (await metadata(inst, group))["description"] == "About us"
    photo = await zapi.post("update-group-photo", {"groupID": group, "groupPhoto": JPEG_URI})
    assert value(photo)

    assert value(await zapi.group_call("add-participant", group, phones=[c], autoInvite=False))
    assert g_us(group) in await phone_groups(client, token, c)
    assert value(await zapi.group_call("add-admin", group, phones=[a]))
    assert members((await phone_groups(client, token, a))[g_us(group)])[a] is True
    assert value(await zapi.group_call("remove-admin", group, phones=[a]))
    assert members((await phone_groups(client, token, a))[g_us(group)])[a] is False
    assert value(await zapi.group_call("remove-participant", group, phones=[c]))
    assert g_us(group) not in await phone_groups(client, token, c)

    # Settings: the json-example's groupId alias and a partial body change only that switch.
    assert value(
        await zapi.post("update-group-settings", {"groupId": group, "adminOnlyMessage": True})
    )
    seen = (await phone_groups(client, token, a))[g_us(group)]
    assert seen["allowParticipantsSendMessages"] is False
    assert seen["allowParticipantsEditGroupSettings"] is True
    r = await client.post(
        f"/sandbox/phones/{a}/messages",
        json={"chatId": g_us(group), "message": "may I?"},
        headers=bearer(token),
    )
    assert r.status_code == 400, r.text  # only admins may send now
    settings = {
        "phone": group,
        "adminOnlyMessage": False,
        "adminOnlySettings": True,
        "requireAdminApproval": True,
        "adminOnlyAddMember": True,
    }
    assert value(await zapi.post("update-group-settings", settings))
    meta = await metadata(inst, group)
    assert (meta["adminOnlyMessage"], meta["adminOnlySettings"]) == (False, True)
    assert (meta["requireAdminApproval"], meta["adminOnlyAddMember"]) == (True, True)

    # Invitation links: GET and POST alike; a new one replaces the old.
    for method in ("GET", "POST"):
        link = ok(await zapi.invitation_link(group, method))
        assert link == {"phone": group, "invitationLink": made["invitationLink"]}
    new = ok(await zapi.redefine_invitation_link(group))
    assert set(new) == {"invitationLink"} and LINK.match(new["invitationLink"])
    assert new["invitationLink"] != made["invitationLink"]
    assert (await metadata(inst, group))["invitationLink"] == new["invitationLink"]
    refused(await zapi.invitation_metadata(made["invitationLink"]), 404)
    info = ok(await zapi.invitation_metadata(new["invitationLink"]))
    assert info["phone"] == group and info["subject"] == "Team 2"
    assert info["description"] == "About us" and info["participantsCount"] == 3
    assert info["invitationLink"] == new["invitationLink"]

    # Joining wants approval now: c's request waits until approved, d's is rejected.
    for phone in (c, d):
        joined = await phone_acts(
            client, token, phone, group, "join", {"inviteLink": new["invitationLink"]}
        )
        assert joined == {"done": True, "reason": ""}
        assert g_us(group) not in await phone_groups(client, token, phone)
    assert value(await zapi.group_call("approve-participant", group, phones=[c]))
    assert g_us(group) in await phone_groups(client, token, c)
    assert value(await zapi.group_call("reject-participant", group, phones=[d]))
    assert g_us(group) not in await phone_groups(client, token, d)
    # No request left to decide: a refusal, not an error.
    assert not value(await zapi.group_call("reject-participant", group, phones=[d]))

    # The group list: a bare array of chat items, the group by its subject.
    listed = ok(await zapi.list_groups(1, 50))
    (item,) = [g for g in listed if g["phone"] == group]
    assert item["isGroup"] is True and item["name"] == "Team 2"
    assert item["archived"] == "false" and item["isMuted"] == "0"
    assert isinstance(item["lastMessageTime"], str)

    assert value(await zapi.group_call("leave-group", group))
    assert me not in members((await phone_groups(client, token, a))[g_us(group)])
    assert group not in [g["phone"] for g in ok(await zapi.list_groups(1, 50))]

    # Joining a phone's group by its link.
    owned = await phone_creates_group(client, token, a, "Phones", [b])
    link = owned["groupInviteLink"]
    assert ok(await zapi.accept_invite(link)) == {"success": True}
    theirs = owned["chatId"].removesuffix("@g.us") + "-group"
    assert me in zmembers(await metadata(inst, theirs))
    # Already a member: refused.
    assert ok(await zapi.accept_invite(link)) == {"success": False}


async def test_a_member_who_is_no_admin_is_refused_with_value_false(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi, owner, other = inst.zapi, new_phone(), new_phone()
    made = await phone_creates_group(client, token, owner, "Theirs", [inst.phone])
    group = made["chatId"].removesuffix("@g.us") + "-group"

    meta = await metadata(inst, group)
    assert meta["invitationLink"] is None and meta["invitationLinkError"] == "not-authorized"
    for route, body in (
        ("add-participant", {"phones": [other]}),
        ("add-admin", {"phones": [inst.phone]}),
        ("remove-participant", {"phones": [owner]}),
        ("update-group-description", {"groupDescription": "mine now"}),
        ("approve-participant", {"phones": [other]}),
    ):
        assert not value(await zapi.group_call(route, group, **body)), route
    assert not value(
        await zapi.post("update-group-settings", {"phone": group, "adminOnlyMessage": True})
    )
    refused(await zapi.invitation_link(group))
    refused(await zapi.redefine_invitation_link(group))
    seen = (await phone_groups(client, token, owner))[g_us(group)]
    assert members(seen) == {owner: True, inst.phone: False}
    assert seen["allowParticipantsSendMessages"] is True
    assert (await metadata(inst, group))["description"] == ""


async def test_bad_group_input_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    inst = await linked(client, token, {})
    zapi, a = inst.zapi, new_phone()
    group = ok(await zapi.create_group("Stays", [a]))["phone"]
    before = await metadata(inst, group)
    groups_before = ok(await zapi.list_groups(1, 50))

    bad = [
        ("create-group", {"groupName": "X", "phones": []}),
        ("create-group", {"groupName": "X", "phones": ["not a phone"]}),
        ("create-group", {"groupName": "", "phones": [a]}),
        ("create-group", {"groupName": "X", "phones": [inst.phone]}),
        ("create-group", {"groupName": "X" * 101, "phones": [a]}),
        ("update-group-name", {"groupId": "nonsense", "groupName": "Y"}),
        ("update-group-name", {"groupId": group, "groupName": 5}),
        ("update-group-name", {"groupId": group, "groupName": "bad\nname"}),
        ("update-group-description", {"groupId": group, "groupDescription": "x" * 2049}),
        ("update-group-photo", {"groupId": group, "groupPhoto": "not base64 at all!"}),
        ("update-group-photo", {"groupPhoto": JPEG_URI}),
        ("update-group-photo", {"groupId": group, "groupPhoto": "data:text/plain;base64,aGVsbG8="}),
        ("add-participant", {"groupId": group, "phones": "5511999999999"}),
        ("add-participant", {"groupId": group, "phones": [a, "12"]}),
        ("remove-participant", {"groupId": group}),
        ("update-group-settings", {"phone": group}),
        ("update-group-settings", {"phone": group, "adminOnlyMessage": "yes"}),
        ("update-group-settings", {"adminOnlyMessage": True}),
        ("leave-group", {"groupId": "123@c.us"}),
        ("leave-group", None),
    ]
    for route, body in bad:
        refused(await zapi.post(route, body))
    # Not JSON: 415.
    r = await client.post(
        zapi.path("update-group-name"),
        content=b'{"groupId": "1"}',
        headers={"Content-Type": "text/plain"},
    )
    refused(r, 415)
    refused(await zapi.group_metadata("120363000000000001-group"), 404)
    refused(await zapi.group_metadata("abc"))
    refused(await zapi.accept_invite("https://example.com/x"))
    refused(await zapi.invitation_metadata(""))
    for page, size in (("0", "10"), ("1", "0"), ("a", "1"), ("1", "1001"), ("", "5")):
        refused(await zapi.list_groups(page, size))
    r = await client.get(zapi.path("groups"), params={"page": "1"})
    refused(r)

    assert await metadata(inst, group) == before
    assert ok(await zapi.list_groups(1, 50)) == groups_before
    seen = (await phone_groups(client, token, a))[g_us(group)]
    assert members(seen) == {inst.phone: True, a: False}


async def test_group_routes_need_a_connected_account(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    zapi = await ZapiPartner(client, await make_partner()).new_instance("offline")
    text = refused(await zapi.create_group("X", [new_phone()]))
    assert "not connected" in text
    refused(await zapi.list_groups(1, 10))
