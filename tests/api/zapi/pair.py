"""One set-up shared by a whole test module of the Z-API sends and message actions: a linked
Z-API instance, a second linked instance (on the GREEN-API paths) to play a contact that
sends what a virtual phone cannot (polls, locations, contacts), and an instance that is never
linked, whose queue keeps whatever it is given (to prove a refused request queued nothing).

Every number is random: the sandbox network is shared by every test of the session.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from tests.api.zapi.instances import ZAAP_ID, green_queue, new_phone
from tests.sending import eventually, inbox, post
from tests.support import Instance, LiveServer, authorize, wait_for_state
from tests.zapi_client import ZapiInstance, ZapiPartner

Json = dict[str, Any]


@dataclass
class Pair:
    """The module's instances and numbers (see the module docstring)."""

    http: httpx.AsyncClient
    token: str
    z: ZapiInstance
    green: Instance
    own: str
    peer: Instance
    peer_phone: str
    idle: ZapiInstance
    idle_green: Instance

    async def queued_nothing(self) -> None:
        """The never linked instance holds no message: a refused request queued none."""
        assert await green_queue(self.http, self.idle_green) == (0, [])

    async def arrived(self, phone: str, id_message: str) -> Json:
        """The message ``id_message`` once the virtual phone has it (its inbox item)."""

        async def found() -> Json | None:
            got = await inbox(self.http, phone, self.token)
            return next((m for m in got if m["idMessage"] == id_message), None)

        item: Json = await eventually(found, f"{id_message} in the inbox of {phone}")
        return item

    async def journaled(self, inst: Instance, chat_id: str, id_message: str) -> Json:
        """The message once the instance's journal has it (GREEN-API getMessage)."""

        async def found() -> Json | None:
            r = await self.http.post(
                inst.url("getMessage"), json={"chatId": chat_id, "idMessage": id_message}
            )
            item: Json | None = r.json() if r.status_code == 200 else None
            return item

        item: Json = await eventually(found, f"{id_message} in the journal of {inst.id}")
        return item

    async def from_phone(self, phone: str, text: str) -> str:
        """A virtual phone writes to the Z-API instance; the id, once the instance has it."""
        r = await self.http.post(
            f"/sandbox/phones/{phone}/messages",
            json={"chatId": f"{self.own}@c.us", "message": text},
            headers={"Authorization": f"Bearer {self.token}"},
        )
        assert r.status_code == 200, r.text
        id_message: str = r.json()["idMessage"]
        await self.journaled(self.green, f"{phone}@c.us", id_message)
        return id_message

    async def from_peer(self, method: str, body: Json) -> str:
        """The peer instance sends to the Z-API instance (a GREEN-API send method); the id,
        once the Z-API instance has the message."""
        answer = await post(self.http, self.peer, method, {"chatId": f"{self.own}@c.us", **body})
        id_message: str = answer["idMessage"]
        await self.journaled(self.green, f"{self.peer_phone}@c.us", id_message)
        return id_message

    async def sent_text(self, phone: str, text: str) -> str:
        """The Z-API instance sends a text; its id, once the phone has it."""
        id_message = triple(await self.z.send_text(phone, text))
        await self.arrived(phone, id_message)
        await self.journaled(self.green, f"{phone}@c.us", id_message)
        return id_message


def triple(r: httpx.Response) -> str:
    """The messageId of a send's answer, checked to be Z-API's send triple."""
    assert r.status_code == 200, r.text
    answer: Json = r.json()
    assert list(answer) == ["zaapId", "messageId", "id"], answer
    assert ZAAP_ID.match(answer["zaapId"]), answer
    assert answer["id"] == answer["messageId"], answer
    message_id: str = answer["messageId"]
    return message_id


async def make_pair(server: LiveServer, ctx: Context, **hooks: str) -> AsyncIterator[Pair]:
    """The module's set-up, Z-API callback URLs ``hooks`` (kind -> url) set before linking."""
    async with ctx.db.transaction() as session:
        _, token = await partners.create_partner(session=session, name=secrets.token_hex(6))
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        partner = ZapiPartner(http, token)
        z = await partner.new_instance("actions")
        for kind, url in hooks.items():
            r = await z.set_webhook(kind, url)
            assert r.status_code == 200, r.text
        green = Instance(int(z.id), z.token, token)
        idle = await partner.new_instance("idle")
        idle_green = Instance(int(idle.id), idle.token, token)
        r = await http.post(f"/partner/createInstance/{token}", json={})
        assert r.status_code == 200, r.text
        peer = Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], token)
        own, peer_phone = new_phone(), new_phone()
        await authorize(http, green, own)
        await authorize(http, peer, peer_phone)
        await wait_for_state(http, idle_green, "notAuthorized")
        yield Pair(http, token, z, green, own, peer, peer_phone, idle, idle_green)


def pair_fixture() -> Any:
    """A fixture: the module's set-up, without callback URLs; assign it to ``pair``."""

    async def made(server: LiveServer, ctx: Context) -> AsyncIterator[Pair]:
        async for one in make_pair(server, ctx):
            yield one

    return pytest.fixture(scope="module")(made)
