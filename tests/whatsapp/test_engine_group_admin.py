"""The group administration and blocking the whatsapp engine does (engines/base.py
GroupAdminSession, ChatMarkSession): a group's description, a new invite link, joining by
link, blocking a person; and NOT_SUPPORTED for what the library cannot do. Real worker
processes running the stand-in client, whose network keeps WhatsApp's rules
(standin_groups.py); both databases. Calls go through the runner's call table, as the API's
do."""

from __future__ import annotations

from typing import Any

from fleetgate.engines.base import NOT_SUPPORTED
from fleetgate.services import engine_calls as c
from fleetgate_whatsapp.groups import ALREADY_MEMBER, NO_GROUP, NO_INVITE, NOT_ADMIN
from tests.engines.contract import OTHER_PHONE, PHONE, EngineHarness, Link, wid_of
from tests.whatsapp.harness import MakeWhatsApp, Start, StartedSessions, WhatsAppFixtures, ask
from tests.whatsapp.standin import Network

THIRD = "15550007777"
NO_SUCH_GROUP = "120363999999999999@g.us"


def _description(network: Network, group: str) -> str:
    with network.db() as conn:
        row = conn.execute("SELECT description FROM groups WHERE group_id = ?", (group,))
        return str(row.fetchone()[0])


def _blocked(network: Network, phone: str) -> list[str]:
    with network.db() as conn:
        rows = conn.execute("SELECT chat_id FROM blocks WHERE phone = ? ORDER BY chat_id", (phone,))
        return [str(r[0]) for r in rows.fetchall()]


class TestGroupAdmin(StartedSessions, WhatsAppFixtures, EngineHarness):
    async def test_description_invite_link_and_joining_by_link(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        engine = make_whatsapp()
        owner, _ = await self._linked(engine, start, link, PHONE)
        member, _ = await self._linked(engine, start, link, OTHER_PHONE)
        third, _ = await self._linked(engine, start, link, THIRD)
        made = await ask(owner, c.CREATE_GROUP, groupName="Club", chatIds=[wid_of(OTHER_PHONE)])
        group, first_link = made["ok"]["chatId"], made["ok"]["groupInviteLink"]

        # The description: a member may set it while the group is unlocked, then admins only.
        describe = {"groupId": group, "description": "Tuesdays"}
        assert await ask(member, c.UPDATE_GROUP_DESCRIPTION, **describe) == {"ok": ""}
        assert _description(network, group) == "Tuesdays"
        locked = {"allowParticipantsEditGroupSettings": False}
        assert await ask(owner, c.UPDATE_GROUP_SETTINGS, groupId=group, **locked) == {"ok": ""}
        refused = await ask(member, c.UPDATE_GROUP_DESCRIPTION, groupId=group, description="x")
        assert refused == {"ok": NOT_ADMIN}
        assert await ask(owner, c.UPDATE_GROUP_DESCRIPTION, groupId=group, description="") == {
            "ok": ""
        }
        assert _description(network, group) == ""
        assert await ask(
            owner, c.UPDATE_GROUP_DESCRIPTION, groupId=NO_SUCH_GROUP, description="x"
        ) == {"ok": NO_GROUP}

        # A new link: admins only; the old one leads nowhere after it.
        assert await ask(member, c.RESET_GROUP_INVITE, groupId=group) == {
            "ok": {"link": "", "reason": NOT_ADMIN}
        }
        reset = (await ask(owner, c.RESET_GROUP_INVITE, groupId=group))["ok"]
        assert reset["reason"] == "" and reset["link"] != first_link
        assert reset["link"].startswith("https://chat.whatsapp.com/")
        assert (await ask(owner, c.GROUP_DATA, groupId=group))["ok"]["groupInviteLink"] == reset[
            "link"
        ]
        nowhere = {"groupId": "", "state": "", "reason": NO_INVITE}
        assert await ask(third, c.JOIN_GROUP, link=first_link) == {"ok": nowhere}
        assert await ask(third, c.JOIN_GROUP, link="https://example.org/x") == {"ok": nowhere}
        assert [phone for phone, _ in network.members(group)] == [PHONE, OTHER_PHONE]

        # Joining by the new link makes a member (no admin) who sees the group.
        joined = {"groupId": group, "state": "joined", "reason": ""}
        assert await ask(third, c.JOIN_GROUP, link=reset["link"]) == {"ok": joined}
        assert network.members(group)[-1] == (THIRD, False)
        assert (await ask(third, c.GROUP_DATA, groupId=group))["ok"]["subject"] == "Club"
        again = await ask(third, c.JOIN_GROUP, link=reset["link"])
        assert again == {"ok": {"groupId": "", "state": "", "reason": ALREADY_MEMBER}}

    async def test_a_contact_is_blocked_and_unblocked(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        engine = make_whatsapp()
        a, _ = await self._linked(engine, start, link, PHONE)
        other, third = wid_of(OTHER_PHONE), wid_of(THIRD)
        assert await ask(a, c.BLOCK_CONTACT, chatId=other, blocked=True) == {"ok": True}
        assert await ask(a, c.BLOCK_CONTACT, chatId=third, blocked=True) == {"ok": True}
        assert _blocked(network, PHONE) == sorted([other, third])
        assert await ask(a, c.BLOCK_CONTACT, chatId=other, blocked=False) == {"ok": True}
        assert _blocked(network, PHONE) == [third]
        # A group is no contact: refused, nothing changed.
        got = await ask(a, c.BLOCK_CONTACT, chatId=NO_SUCH_GROUP, blocked=True)
        assert "error" in got and "participant must be" in got["error"]
        assert _blocked(network, PHONE) == [third]

    async def test_what_the_library_cannot_do_answers_not_supported(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link
    ) -> None:
        engine = make_whatsapp()
        a, _ = await self._linked(engine, start, link, PHONE)
        calls: dict[str, dict[str, Any]] = {
            c.GROUP_METADATA: {"groupId": NO_SUCH_GROUP},
            c.JOINED_GROUPS: {},
            c.UPDATE_GROUP_POLICY: {"groupId": NO_SUCH_GROUP, "membersAdd": True},
            c.GROUP_INVITE_INFO: {"link": "https://chat.whatsapp.com/x"},
            c.DECIDE_GROUP_REQUEST: {
                "groupId": NO_SUCH_GROUP,
                "participantChatId": wid_of(THIRD),
                "approve": True,
            },
            c.MODIFY_CHAT: {"chatId": wid_of(THIRD), "action": "pin"},
        }
        for method, args in calls.items():
            assert await ask(a, method, **args) == {"error": NOT_SUPPORTED}, method
