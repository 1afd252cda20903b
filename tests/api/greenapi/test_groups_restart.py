"""Groups live in the database: a restarted server has them as they were, and messages to them
flow again without any new step."""

from __future__ import annotations

from pathlib import Path

import httpx

from fleetgate.context import Context
from fleetgate.services import partners
from tests.sending import bearer, eventually, inbox, new_phone, send
from tests.support import Instance, authorize, live_server, make_settings, wait_for_state


async def test_groups_survive_a_restart(fresh_database_url: str, tmp_path: Path) -> None:
    settings = make_settings(tmp_path / "data", fresh_database_url)
    me, member = new_phone(), new_phone()
    with live_server(settings) as first:
        ctx = Context.from_settings(settings)
        async with ctx.db.transaction() as session:
            _, partner_token = await partners.create_partner(session=session, name="groups")
        await ctx.db.dispose()
        async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
            body = (await client.post(f"/partner/createInstance/{partner_token}", json={})).json()
            inst = Instance(body["idInstance"], body["apiTokenInstance"], partner_token)
            await authorize(client, inst, me)
            r = await client.post(
                inst.url("createGroup"), json={"groupName": "Kept", "chatIds": [f"{member}@c.us"]}
            )
            group = r.json()["chatId"]
            r = await client.post(
                inst.url("setGroupAdmin"),
                json={"groupId": group, "participantChatId": f"{member}@c.us"},
            )
            assert r.json() == {"setGroupAdmin": True}
            before = (await client.post(inst.url("getGroupData"), json={"groupId": group})).json()

    with live_server(settings) as second:
        async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
            await wait_for_state(client, inst, "authorized")
            after = (await client.post(inst.url("getGroupData"), json={"groupId": group})).json()
            assert after == before
            assert [p["isAdmin"] for p in after["participants"]] == [True, True]
            r = await client.get(f"/sandbox/phones/{member}/groups", headers=bearer(partner_token))
            assert [g["subject"] for g in r.json()["groups"]] == ["Kept"]
            sent = await send(client, inst, "sendMessage", {"chatId": group, "message": "still"})

            async def arrived() -> list[dict[str, object]]:
                got = await inbox(client, member, partner_token)
                return [m for m in got if m["idMessage"] == sent and m["chatId"] == group]

            await eventually(arrived, "the message in the group after the restart")
