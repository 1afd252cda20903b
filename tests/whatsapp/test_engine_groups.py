"""Groups through the whatsapp engine: real worker processes running the stand-in client, whose
network keeps WhatsApp's group rules (standin_groups.py); both databases. Each call goes
through the runner's call table (runner/calls.py), as the API's calls do."""

from __future__ import annotations

import hashlib

import pytest

from fleetgate.context import Context
from fleetgate.engines.base import EngineError
from fleetgate.services import engine_calls as c
from fleetgate.storage.blobs import BlobStore
from fleetgate_whatsapp.session import NOT_AUTHORIZED_TEXT
from tests.engines.contract import OTHER_PHONE, PHONE, EngineHarness, Link, wid_of
from tests.whatsapp.fake_client import file_of
from tests.whatsapp.harness import (
    MakeWhatsApp,
    Start,
    StartedSessions,
    WhatsAppFixtures,
    ask,
    put_file,
)
from tests.whatsapp.standin import Network

THIRD = "15550007777"


class TestGroups(StartedSessions, WhatsAppFixtures, EngineHarness):
    async def test_a_group_made_by_one_instance_is_seen_and_changed_by_its_members(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        engine = make_whatsapp()
        owner, _ = await self._linked(engine, start, link, PHONE)
        member, _ = await self._linked(engine, start, link, OTHER_PHONE)

        made = await ask(owner, c.CREATE_GROUP, groupName="Friends", chatIds=[wid_of(OTHER_PHONE)])
        group = made["ok"]["chatId"]
        assert group.startswith("120363") and group.endswith("@g.us")
        assert made["ok"]["groupInviteLink"].startswith("https://chat.whatsapp.com/")
        # Both members read it: the invite link only the admin.
        seen = (await ask(owner, c.GROUP_DATA, groupId=group))["ok"]
        assert seen["owner"] == wid_of(PHONE)
        assert seen["subject"] == "Friends"
        assert seen["groupInviteLink"] == made["ok"]["groupInviteLink"]
        assert seen["participants"] == [
            {"id": wid_of(PHONE), "isAdmin": True, "isSuperAdmin": True},
            {"id": wid_of(OTHER_PHONE), "isAdmin": False, "isSuperAdmin": False},
        ]
        as_member = (await ask(member, c.GROUP_DATA, groupId=group))["ok"]
        assert as_member == seen | {"groupInviteLink": ""}

        # A member who is no admin: refused with the sandbox's words, nothing changed.
        on_third = {"groupId": group, "participantChatId": wid_of(THIRD)}
        assert await ask(member, c.ADD_GROUP_PARTICIPANT, **on_third) == {"ok": "NOT_ENOUGH_RIGHTS"}
        assert await ask(
            member, c.UPDATE_GROUP_SETTINGS, groupId=group, allowParticipantsSendMessages=False
        ) == {"ok": "NOT_ENOUGH_RIGHTS"}
        assert [phone for phone, _ in network.members(group)] == [PHONE, OTHER_PHONE]

        # A member may rename an unlocked group; once locked, only admins.
        assert await ask(member, c.UPDATE_GROUP_NAME, groupId=group, groupName="Ours") == {"ok": ""}
        locked = {"allowParticipantsEditGroupSettings": False}
        assert await ask(owner, c.UPDATE_GROUP_SETTINGS, groupId=group, **locked) == {"ok": ""}
        assert await ask(member, c.UPDATE_GROUP_NAME, groupId=group, groupName="No") == {
            "ok": "NOT_ENOUGH_RIGHTS"
        }
        changed = (await ask(owner, c.GROUP_DATA, groupId=group))["ok"]
        assert (changed["subject"], changed["subjectOwner"]) == ("Ours", wid_of(OTHER_PHONE))
        assert changed["allowParticipantsEditGroupSettings"] is False
        assert changed["allowParticipantsSendMessages"] is True

        # The owner adds, promotes, demotes and removes; the owner cannot be demoted.
        assert await ask(owner, c.ADD_GROUP_PARTICIPANT, **on_third) == {"ok": ""}
        assert await ask(owner, c.ADD_GROUP_PARTICIPANT, **on_third) == {
            "ok": "already a member of the group"
        }
        on_member = {"groupId": group, "participantChatId": wid_of(OTHER_PHONE)}
        assert await ask(owner, c.SET_GROUP_ADMIN, **on_member) == {"ok": ""}
        assert network.members(group) == [(PHONE, True), (OTHER_PHONE, True), (THIRD, False)]
        on_owner = {"groupId": group, "participantChatId": wid_of(PHONE)}
        assert (await ask(member, c.REMOVE_GROUP_ADMIN, **on_owner))["ok"]
        assert await ask(owner, c.REMOVE_GROUP_ADMIN, **on_member) == {"ok": ""}
        assert await ask(owner, c.REMOVE_GROUP_PARTICIPANT, **on_third) == {"ok": ""}
        assert network.members(group) == [(PHONE, True), (OTHER_PHONE, False)]

        # The owner leaves: the member left becomes an admin; the owner sees the group no more.
        assert await ask(owner, c.LEAVE_GROUP, groupId=group) == {"ok": ""}
        assert network.members(group) == [(OTHER_PHONE, True)]
        assert await ask(owner, c.GROUP_DATA, groupId=group) == {
            "error": "not a member of the group"
        }
        assert await ask(owner, c.LEAVE_GROUP, groupId=group) == {"ok": "not a member of the group"}

    async def test_a_group_picture_reaches_whatsapp_byte_for_byte(
        self,
        make_whatsapp: MakeWhatsApp,
        start: Start,
        link: Link,
        network: Network,
        engine_ctx: Context,
    ) -> None:
        owner, _ = await self._linked(make_whatsapp(), start, link, PHONE)
        blobs: BlobStore = engine_ctx.engines.host.blobs
        group = (await owner.create_group("Pictured", [wid_of(OTHER_PHONE)]))["chatId"]
        content = file_of(2048)
        picture = await put_file(blobs, content, "group.jpg")
        args = {"groupId": group, "file": picture.as_json()}
        assert await ask(owner, c.SET_GROUP_PICTURE, **args) == {"ok": ""}
        stored = network.group(group)
        assert stored is not None
        assert stored["picture"] == hashlib.sha256(content).hexdigest()

    async def test_unknown_groups_and_bad_ids_are_answered_and_change_nothing(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        session, _ = await self._linked(make_whatsapp(), start, link, PHONE)
        unknown = "120363000000000000@g.us"
        # getGroupData of no group answers None (the API shows "group not found").
        assert await ask(session, c.GROUP_DATA, groupId=unknown) == {"ok": None}
        assert await ask(session, c.UPDATE_GROUP_NAME, groupId=unknown, groupName="x") == {
            "ok": "group not found"
        }
        assert await ask(session, c.LEAVE_GROUP, groupId=unknown) == {"ok": "group not found"}
        # What could not be asked at all is an error with its reason.
        refused = await ask(session, c.CREATE_GROUP, groupName="G", chatIds=["not-a-chat"])
        assert "not-a-chat" in refused["error"]
        with network.db() as conn:
            assert conn.execute("SELECT count(*) FROM groups").fetchone()[0] == 0

    async def test_group_calls_need_a_linked_device(
        self, make_whatsapp: MakeWhatsApp, start: Start
    ) -> None:
        session, _ = await start(make_whatsapp())
        with pytest.raises(EngineError, match=NOT_AUTHORIZED_TEXT):
            await session.create_group("G", [wid_of(OTHER_PHONE)])
        assert await ask(session, c.GROUP_DATA, groupId="120363000000000000@g.us") == {
            "error": NOT_AUTHORIZED_TEXT
        }
