"""The whatsapp engine beyond the contract: what the device's events become, through real
worker processes running the stand-in client."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pytest

from fleetgate.clock import now_ms
from fleetgate.domain.instances import State
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import EngineError, IncomingMessage, OutgoingMessage
from fleetgate_whatsapp.session import STARTING_TEXT
from tests.engines.contract import OTHER_PHONE, PHONE, EngineHarness, Link, wid_of
from tests.support import until
from tests.whatsapp.harness import (
    MakeWhatsApp,
    SqliteOnly,
    Start,
    StartedSessions,
    WhatsAppFixtures,
)
from tests.whatsapp.standin import ENV_QR_MS, ENV_QR_ROUNDS, Network

TIMEOUT = 20.0


def text(value: str) -> dict[str, Any]:
    return {"typeMessage": "extendedTextMessage", "extendedTextMessageData": {"text": value}}


async def holds(value: bool) -> bool:
    return value


class TestWhatsAppSessions(SqliteOnly, StartedSessions, WhatsAppFixtures, EngineHarness):
    async def test_messages_and_receipts_between_two_instances(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        engine = make_whatsapp()
        a, a_events = await self._linked(engine, start, link, PHONE)
        b, b_events = await self._linked(engine, start, link, OTHER_PHONE)

        outgoing = OutgoingMessage("BAE5367237E13A87", wid_of(OTHER_PHONE), text("hello"))
        remote = await a.send(outgoing)
        assert remote.startswith("3EB0")
        assert await a.send(outgoing) == remote  # a repeat is not sent twice

        await b_events.wait_until(lambda: b_events.of("message"), TIMEOUT, "the message")
        # (at_ms: the stand-in's send time, which the test cannot know)
        assert [replace(m, at_ms=None) for m in b_events.of("message")] == [
            IncomingMessage(
                id_message=remote,
                chat_id=wid_of(PHONE),
                sender=wid_of(PHONE),
                sender_name=PHONE,
                message_data={
                    "typeMessage": "textMessage",
                    "textMessageData": {"textMessage": "hello"},
                },
            )
        ]
        # Receipts name WhatsApp's id; the session reports them under ours, which the runner's
        # journal holds even before it wrote WhatsApp's id down.
        ours = outgoing.id_message
        delivered = (ours, wid_of(OTHER_PHONE), MessageStatus.DELIVERED)
        await a_events.wait_until(lambda: delivered in a_events.of("receipt"), TIMEOUT, "delivery")

        await b.read_chat(wid_of(PHONE), [remote])
        read = (ours, wid_of(OTHER_PHONE), MessageStatus.READ)
        await a_events.wait_until(lambda: read in a_events.of("receipt"), TIMEOUT, "read")
        assert [m["id"] for m in network.messages_to(OTHER_PHONE)] == [remote]

        from_phone = network.send("15550001111", PHONE, "from a phone")
        await a_events.wait_until(
            lambda: [m.id_message for m in a_events.of("message")] == [from_phone],
            TIMEOUT,
            "the phone's message",
        )
        network.presence("15550001111", PHONE, "COMPOSING")
        network.presence("15550001111", PHONE, "UNAVAILABLE")
        await a_events.wait_until(lambda: len(a_events.of("presence")) == 2, TIMEOUT, "presence")
        (typing, gone) = a_events.of("presence")
        assert typing == (wid_of("15550001111"), "COMPOSING", None)
        assert gone[:2] == (wid_of("15550001111"), "UNAVAILABLE")
        assert gone[2] <= now_ms()
        assert await a.exists(OTHER_PHONE)
        assert not await a.exists("15550002222")

        with pytest.raises(EngineError, match="no messages to groups"):
            await a.send(OutgoingMessage("BAE5367237E13A88", "1203630@g.us", text("x")))

    async def test_phone_removing_the_device_logs_out_and_it_can_link_again(
        self, make_whatsapp: MakeWhatsApp, start: Start, link: Link, network: Network
    ) -> None:
        session, events = await self._linked(make_whatsapp(), start, link)
        first_auth = events.auths[-1]
        assert network.remove_devices(PHONE) >= 1
        await events.wait_for_state(State.NOT_AUTHORIZED, "", timeout=TIMEOUT)
        assert events.auths[-1] is None
        with pytest.raises(EngineError, match="not authorized"):
            await session.send(OutgoingMessage("BAE5367237E13A89", wid_of(PHONE), text("x")))

        await link(session.sid, OTHER_PHONE)  # a new QR was asked for by itself
        await events.wait_for_state(State.AUTHORIZED, wid_of(OTHER_PHONE), timeout=TIMEOUT)
        assert events.auths[-1] not in (None, first_auth)

    async def test_pairing_code_links_the_instance(
        self, make_whatsapp: MakeWhatsApp, start: Start, network: Network
    ) -> None:
        session, events = await start(make_whatsapp())
        code = await session.pairing_code(PHONE)
        assert len(code) == 9
        assert code[4] == "-"
        assert network.enter_code(PHONE, code)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=TIMEOUT)

    async def test_a_ban_blocks_the_instance(
        self,
        make_whatsapp: MakeWhatsApp,
        start: Start,
        link: Link,
        network: Network,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        _, events = await self._linked(make_whatsapp(), start, link)
        network.ban(PHONE, 3600)
        await events.wait_for_state(State.BLOCKED, wid_of(PHONE), timeout=TIMEOUT)
        assert events.auths[-1] is not None  # still linked
        # What the worker logged reached this process's log, as the worker's.
        relayed = [r for r in caplog.records if r.name == "fleetgate_whatsapp.worker"]
        assert any("is banned" in r.getMessage() for r in relayed)

    async def test_a_replaced_session_steps_aside(
        self,
        make_whatsapp: MakeWhatsApp,
        start: Start,
        link: Link,
        network: Network,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        first, first_events = await self._linked(make_whatsapp(), start, link)
        # The same device opened elsewhere (another host took the instance over).
        _, second_events = await start(make_whatsapp(), first.sid, first_events.auths[-1])
        assert second_events.state == (State.AUTHORIZED, wid_of(PHONE))
        await until(
            lambda: holds("replaced by another connection" in caplog.text),
            "the first connection to be replaced",
        )
        seen = list(first_events.calls)

        # The first session does not connect again: the second keeps receiving.
        sent = network.send("15550003333", PHONE, "who gets this?")
        await second_events.wait_until(
            lambda: [m.id_message for m in second_events.of("message")] == [sent],
            TIMEOUT,
            "the message on the second connection",
        )
        assert first_events.calls == seen
        assert second_events.state == (State.AUTHORIZED, wid_of(PHONE))

    async def test_offline_shows_starting_logs_once_and_recovers(
        self,
        make_whatsapp: MakeWhatsApp,
        start: Start,
        link: Link,
        network: Network,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        engine = make_whatsapp()
        linked, linked_events = await self._linked(engine, start, link)
        await linked.stop()
        network.set_flag("offline", True)
        before = network.count("connects")

        _, events = await start(engine, linked.sid, linked_events.auths[-1])
        unlinked, unlinked_events = await start(engine)
        await events.wait_for_state(State.STARTING, wid_of(PHONE), timeout=TIMEOUT)
        assert events.auths == []  # still linked: nothing forgotten
        assert unlinked_events.state == (State.NOT_AUTHORIZED, "")
        with pytest.raises(EngineError, match=STARTING_TEXT):
            await unlinked.qr()
        await until(lambda: holds(network.count("connects") >= before + 6), "retries")
        offline_lines = [r for r in caplog.records if "is offline" in r.getMessage()]
        assert len(offline_lines) == 2  # one per instance, not one per retry

        network.set_flag("offline", False)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=TIMEOUT)

        async def qr_shown() -> bool:
            try:
                return bool((await unlinked.qr()).payload)
            except EngineError:
                return False

        await until(qr_shown, "a QR once online")

    async def test_an_expired_login_window_is_asked_anew(
        self, make_whatsapp: MakeWhatsApp, start: Start, network: Network
    ) -> None:
        engine = make_whatsapp(env={ENV_QR_MS: "300", ENV_QR_ROUNDS: "1"})
        session, events = await start(engine)
        first = await session.qr()
        await until(lambda: holds(now_ms() > first.expires_ms), "the QR to expire")
        second = await session.qr()
        assert second.payload != first.payload
        assert second.expires_ms > now_ms()
        assert network.scan(second.payload, PHONE)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=TIMEOUT)

    async def test_worker_stderr_and_logs_are_quiet_in_normal_operation(
        self,
        make_whatsapp: MakeWhatsApp,
        start: Start,
        link: Link,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        caplog.set_level(logging.WARNING)
        session, _ = await self._linked(make_whatsapp(), start, link)
        await session.stop()
        assert [r.getMessage() for r in caplog.records if r.name.startswith("fleetgate")] == []
