"""Chats and the account's own messages through the whatsapp engine (deletions, edits, typing,
the disappearing timer, the profile picture): real worker processes running the stand-in
client, both databases; what the other side sees is read from the other instance's events or
the stand-in network. Calls go through the runner's call table, as the API's do."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from fleetgate.context import Context
from fleetgate.engines.base import NOT_SUPPORTED, IncomingMessage, OutgoingMessage
from fleetgate.services import engine_calls as c
from fleetgate_whatsapp.optional import ONLY_MINE_TEXT
from fleetgate_whatsapp.session import NOT_AUTHORIZED_TEXT
from tests.engines.contract import OTHER_PHONE, PHONE, EngineHarness, Link, wid_of
from tests.support import until
from tests.whatsapp.fake_client import file_of
from tests.whatsapp.harness import (
    EveryEvent,
    MakeWhatsApp,
    Start,
    StartedSessions,
    WhatsAppFixtures,
    ask,
    put_file,
)
from tests.whatsapp.standin import Network

TIMEOUT = 20.0


def _text(value: str) -> dict[str, Any]:
    return {"typeMessage": "extendedTextMessage", "extendedTextMessageData": {"text": value}}


async def _next_message(events: EveryEvent, count: int) -> IncomingMessage:
    """The ``count``-th message the session reported (waiting for it)."""
    await events.wait_until(lambda: len(events.of("message")) >= count, TIMEOUT, "a message")
    found: IncomingMessage = events.of("message")[count - 1]
    return found


class TestActions(StartedSessions, WhatsAppFixtures, EngineHarness):
    async def test_a_sent_message_is_edited_and_deleted_under_whatsapps_id(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link
    ) -> None:
        engine = make_whatsapp()
        a, _ = await self._linked(engine, start, link, PHONE)
        b, b_events = await self._linked(engine, start, link, OTHER_PHONE)
        ours = "BAE5367237E13A90"
        remote = await a.send(OutgoingMessage(ours, wid_of(OTHER_PHONE), _text("helo")))
        assert (await _next_message(b_events, 1)).id_message == remote

        # The API names the message by fleetgate's id; WhatsApp hears of it by its own.
        edit = {"chatId": wid_of(OTHER_PHONE), "idMessage": ours, "idEdit": "E1", "text": "hello"}
        assert await ask(a, c.EDIT_MESSAGE, **edit) == {"ok": True}
        edited = await _next_message(b_events, 2)
        assert (edited.chat_id, edited.sender) == (wid_of(PHONE), wid_of(PHONE))
        assert edited.message_data == {
            "typeMessage": "editedMessage",
            "editedMessageData": {"textMessage": "hello", "stanzaId": remote},
        }
        delete = {"chatId": wid_of(OTHER_PHONE), "idMessage": ours, "forEveryone": True}
        assert await ask(a, c.DELETE_MESSAGE, **delete) == {"ok": True}
        deleted = await _next_message(b_events, 3)
        assert deleted.message_data == {
            "typeMessage": "deletedMessage",
            "deletedMessageData": {"stanzaId": remote},
        }
        # A message fleetgate knows by WhatsApp's id (one that arrived) keeps it.
        back = await b.send(OutgoingMessage("BAE5367237E13A91", wid_of(PHONE), _text("hi")))
        await b.delete_message(wid_of(PHONE), back, for_everyone=True)

        # Deleting only on the account's devices: refused with its reason, nothing sent.
        only_mine = delete | {"forEveryone": False}
        assert await ask(a, c.DELETE_MESSAGE, **only_mine) == {"error": ONLY_MINE_TEXT}
        assert len(b_events.of("message")) == 3

    async def test_typing_shows_for_its_time_then_pauses(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        a, _ = await self._linked(make_whatsapp(), start, link, PHONE)
        typing = {"chatId": wid_of(OTHER_PHONE), "recording": False, "durationMs": 1000}
        assert await ask(a, c.SEND_TYPING, **typing) == {"ok": True}
        assert network.presences_to(OTHER_PHONE) == [(PHONE, "COMPOSING")]

        def shown() -> list[tuple[str, str]]:
            return network.presences_to(OTHER_PHONE)

        await _until(lambda: len(shown()) == 2, "the pause")
        assert shown()[1] == (PHONE, "PAUSED")

        # A recording replaces the typing still shown: one pause, at the end of the last.
        long = typing | {"durationMs": 60_000}
        assert await ask(a, c.SEND_TYPING, **long) == {"ok": True}
        assert await ask(a, c.SEND_TYPING, **typing | {"recording": True}) == {"ok": True}
        await _until(lambda: len(shown()) == 5, "the second pause")
        assert shown()[2:] == [(PHONE, "COMPOSING"), (PHONE, "RECORDING"), (PHONE, "PAUSED")]

    async def test_timer_and_profile_picture_are_set_on_the_account(
        self,
        make_whatsapp: MakeWhatsApp,
        start: Start,
        link: Link,
        network: Network,
        engine_ctx: Context,
    ) -> None:
        a, _ = await self._linked(make_whatsapp(), start, link, PHONE)
        chat = wid_of(OTHER_PHONE)
        assert await ask(a, c.SET_DISAPPEARING, chatId=chat, expiration=604800) == {"ok": True}
        assert network.timer(PHONE, chat) == 604800
        assert await ask(a, c.SET_DISAPPEARING, chatId=chat, expiration=0) == {"ok": True}
        assert network.timer(PHONE, chat) == 0

        content = file_of(4096)
        picture = await put_file(engine_ctx.engines.host.blobs, content, "me.jpg")
        assert await ask(a, c.SET_PROFILE_PICTURE, file=picture.as_json()) == {"ok": True}
        assert network.picture(PHONE) == hashlib.sha256(content).hexdigest()

    async def test_what_the_library_cannot_do_is_not_supported(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link
    ) -> None:
        a, _ = await self._linked(make_whatsapp(), start, link, PHONE)
        asked = {
            c.ARCHIVE_CHAT: {"chatId": wid_of(OTHER_PHONE), "archived": True},
            c.SEND_STATUS: {"idMessage": "S1", "messageData": _text("status")},
            c.DELETE_STATUS: {"idMessage": "S1"},
            c.STATUS_STATISTIC: {"idMessage": "S1"},
            c.STATUSES: {"incoming": True, "sinceMs": 0},
        }
        for method, args in asked.items():
            assert await ask(a, method, **args) == {"error": NOT_SUPPORTED}, method

    async def test_actions_need_a_linked_device_and_a_chat(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link
    ) -> None:
        unlinked, _ = await start(make_whatsapp())
        typing = {"chatId": wid_of(OTHER_PHONE), "recording": False, "durationMs": 1000}
        assert await ask(unlinked, c.SEND_TYPING, **typing) == {"error": NOT_AUTHORIZED_TEXT}
        linked, _ = await self._linked(make_whatsapp(), start, link, PHONE)
        refused = await ask(linked, c.SET_DISAPPEARING, chatId="12345", expiration=86400)
        assert "12345" in refused["error"]


async def _until(check: Callable[[], bool], what: str) -> None:
    async def holds() -> bool:
        return check()

    await until(holds, what, timeout=TIMEOUT)
