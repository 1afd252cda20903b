"""Z-API's message actions and group administration on a whatsapp-engine instance through
`fleetgate serve`, on both databases: the real server, its runner, real worker processes and
the stand-in client behind them. Reactions and pins (send-reaction, send-remove-reaction,
pin-message) name their message by fleetgate's id on the API and reach WhatsApp under
WhatsApp's id, as what the real client builds WhatsApp's reaction and pin from; a group's
description, a new invite link and blocking reach the stand-in network."""

from __future__ import annotations

from typing import Any

import httpx

from fleetgate_whatsapp import proto
from fleetgate_whatsapp.translate import outgoing
from tests.processes import Served
from tests.support import until
from tests.whatsapp import test_through_the_api as through
from tests.whatsapp.standin import Network

ACCOUNT, CONTACT = through.ACCOUNT, through.CONTACT
# The served instance's fixtures, shared with test_through_the_api.py.
network, partner_token, served = through.network, through.partner_token, through.served


async def test_reactions_and_pins_name_the_message_by_whatsapps_id(
    served: Served, network: Network, partner_token: str
) -> None:
    contact, me = f"{CONTACT}@c.us", f"{ACCOUNT}@c.us"
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        api = await through._linked_instance(http, partner_token, network)
        zapi = f"/instances/{api.id}/token/{api.token}"

        async def post(route: str, body: dict[str, Any]) -> dict[str, Any]:
            r = await http.post(f"{zapi}/{route}", json=body)
            assert r.status_code == 200, r.text
            answer: dict[str, Any] = r.json()
            return answer

        ours = (await post("send-text", {"phone": CONTACT, "message": "hello"}))["messageId"]
        await until(lambda: _count(network, 1), "the contact got the text")
        theirs = network.messages_to(CONTACT)[0]["id"]
        assert theirs != ours

        ref = {"phone": CONTACT, "messageId": ours}
        await post("send-reaction", ref | {"reaction": "👍"})
        await post("send-remove-reaction", ref)
        await post("pin-message", ref | {"messageAction": "pin", "pinMessageDuration": "7_days"})
        await until(lambda: _count(network, 4), "the reactions and the pin")
        reacted, removed, pinned = [m["message_data"] for m in network.messages_to(CONTACT)[1:]]
        assert reacted["quotedMessage"]["stanzaId"] == theirs
        assert removed["quotedMessage"]["stanzaId"] == theirs
        assert pinned["pinMessageData"]["stanzaId"] == theirs

    # What the real client builds of them: WhatsApp's keys of the account's own message.
    own = ("15550002222@s.whatsapp.net", True, theirs)
    for data, part, shown in (
        (reacted, "reactionMessage", "👍"),
        (removed, "reactionMessage", ""),
        (pinned, "pinInChatMessage", None),
    ):
        built = outgoing(data, chat_id=contact, me=me).message
        key = getattr(built, part).key
        assert (key.remoteJID, key.fromMe, key.ID) == own
        if shown is not None:
            assert built.reactionMessage.text == shown
    built = outgoing(pinned, chat_id=contact, me=me).message
    assert built.pinInChatMessage.type == proto.e2e.PinInChatMessage.Type.Value("PIN_FOR_ALL")
    assert built.messageContextInfo.messageAddOnDurationInSecs == 604_800


async def _count(network: Network, count: int) -> bool:
    return len(network.messages_to(CONTACT)) >= count


async def test_description_new_invite_link_and_blocking_reach_whatsapp(
    served: Served, network: Network, partner_token: str
) -> None:
    """Z-API's update-group-description, redefine-invitation-link and contacts/modify-blocked
    on a whatsapp instance: their documented answers, and their effect on the stand-in
    network."""
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        api = await through._linked_instance(http, partner_token, network)
        zapi = f"/instances/{api.id}/token/{api.token}"

        async def post(route: str, body: dict[str, Any] | None = None) -> Any:
            r = await http.post(f"{zapi}/{route}", json=body)
            assert r.status_code == 200, r.text
            return r.json()

        made = await api.call(
            "POST", "createGroup", {"groupName": "Club", "chatIds": [f"{CONTACT}@c.us"]}
        )
        group, first_link = made["chatId"], made["groupInviteLink"]
        described = await post(
            "update-group-description", {"groupId": group, "groupDescription": "Tuesdays"}
        )
        assert described == {"value": True}
        assert network.group(group) is not None
        with network.db() as conn:
            row = conn.execute("SELECT description FROM groups WHERE group_id = ?", (group,))
            assert row.fetchone()[0] == "Tuesdays"
        reset = await post(f"redefine-invitation-link/{group}")
        assert reset["invitationLink"].startswith("https://chat.whatsapp.com/")
        assert reset["invitationLink"] != first_link
        data = await api.call("POST", "getGroupData", {"groupId": group})
        assert data["groupInviteLink"] == reset["invitationLink"]

        assert await post("contacts/modify-blocked", {"phone": CONTACT, "action": "block"}) == {
            "value": True
        }
        with network.db() as conn:
            rows = conn.execute("SELECT chat_id FROM blocks WHERE phone = ?", (ACCOUNT,))
            assert [r[0] for r in rows.fetchall()] == [f"{CONTACT}@c.us"]
        await post("contacts/modify-blocked", {"phone": CONTACT, "action": "unblock"})
        with network.db() as conn:
            rows = conn.execute("SELECT chat_id FROM blocks WHERE phone = ?", (ACCOUNT,))
            assert rows.fetchall() == []
