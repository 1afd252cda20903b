"""Files through the whatsapp engine, on both databases: real worker processes running the
stand-in client, fleetgate's real media store. An outgoing file message reaches WhatsApp with
the exact bytes the media store holds; a received one ends as an IncomingMessage whose file
was put in the media store, byte for byte; one that cannot be downloaded still arrives."""

from __future__ import annotations

import base64
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest

from fleetgate.context import Context
from fleetgate.domain.files import StoredFile
from fleetgate.domain.instances import State
from fleetgate.engines.base import EngineError, IncomingMessage, OutgoingMessage, SessionSpec
from fleetgate.services.files import file_message_data
from fleetgate.storage.blobs import BlobStore, new_key
from fleetgate_whatsapp.engine import WhatsAppEngine, WhatsAppSession
from tests.engines.contract import OTHER_PHONE, PHONE, EngineHarness, Link, NewInstance, wid_of
from tests.whatsapp.fake_client import file_of
from tests.whatsapp.harness import (
    EveryEvent,
    MakeWhatsApp,
    WhatsAppFixtures,
    put_file,
    standin_settings,
)
from tests.whatsapp.standin import Network

TIMEOUT = 20.0
SENDER = "15550003333"
Linked = Callable[..., Awaitable[tuple[WhatsAppSession, EveryEvent]]]


async def _bytes_of(blobs: BlobStore, file: StoredFile) -> bytes:
    return await blobs.read_all(file.key)


def _image(name: str, caption: str = "") -> dict[str, Any]:
    file = {"downloadUrl": "", "caption": caption, "fileName": name, "mimeType": "image/jpeg"}
    return {"typeMessage": "imageMessage", "fileMessageData": file}


class TestWhatsAppFiles(WhatsAppFixtures, EngineHarness):
    @pytest.fixture
    async def linked(self, new_instance: NewInstance, link: Link) -> AsyncIterator[Linked]:
        """Factory: ``linked(engine, phone)`` -> a started session linked to ``phone``."""
        started: list[WhatsAppSession] = []

        async def linked(engine: WhatsAppEngine, phone: str) -> tuple[WhatsAppSession, EveryEvent]:
            events = EveryEvent()
            session = engine.open_session(
                SessionSpec(id_instance=await new_instance(), auth=None), events
            )
            started.append(session)
            await session.start()
            await link(session.sid, phone)
            await events.wait_for_state(State.AUTHORIZED, wid_of(phone), timeout=TIMEOUT)
            return session, events

        yield linked
        for session in started:
            await session.stop()

    async def test_a_file_goes_out_with_its_exact_bytes_and_arrives_stored(
        self, make_whatsapp: MakeWhatsApp, linked: Linked, network: Network, engine_ctx: Context
    ) -> None:
        blobs = engine_ctx.engines.host.blobs
        engine = make_whatsapp()
        a, _ = await linked(engine, PHONE)
        _, b_events = await linked(engine, OTHER_PHONE)
        content = file_of(300_000)
        stored = await put_file(blobs, content, "cat.jpg")
        link = "http://127.0.0.1:8080/media/1/k/cat.jpg"  # fleetgate's: never fetched
        data = file_message_data(stored, link=link, caption="a cat")

        remote = await a.send(
            OutgoingMessage("BAE5F11E00000001", wid_of(OTHER_PHONE), data, stored)
        )

        (on_the_wire,) = network.messages_to(OTHER_PHONE)
        assert on_the_wire["id"] == remote
        uploaded = base64.b64decode(on_the_wire["file"])
        assert hashlib.sha256(uploaded).hexdigest() == stored.sha256
        assert on_the_wire["file_mime_type"] == "image/jpeg"

        await b_events.wait_until(lambda: b_events.of("message"), TIMEOUT, "the file message")
        (message,) = b_events.of("message")
        assert message.file is not None
        assert message.file.key != stored.key  # the recipient's own copy
        assert replace(message.file, key="") == replace(stored, key="")
        assert await _bytes_of(blobs, message.file) == content
        assert (message.id_message, message.message_data["typeMessage"]) == (remote, "imageMessage")
        assert message.message_data["fileMessageData"]["caption"] == "a cat"

    async def test_media_from_a_phone_is_stored_or_arrives_without_its_file(
        self,
        make_whatsapp: MakeWhatsApp,
        linked: Linked,
        network: Network,
        engine_ctx: Context,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        blobs = engine_ctx.engines.host.blobs
        _, events = await linked(make_whatsapp(), PHONE)
        voice = b"OggS\x00\x02" + bytes(range(256)) * 40
        document = b"%PDF-1.7 a short report"
        note = {"typeMessage": "audioMessage", "fileMessageData": {"fileName": "3EB0.oga"}}
        report = {"typeMessage": "documentMessage", "fileMessageData": {"fileName": "../q3.pdf"}}
        caplog.set_level(logging.WARNING)
        first = network.send_file(SENDER, PHONE, note, voice)
        lost = network.send_file(SENDER, PHONE, _image("gone.jpg"), None)
        last = network.send_file(SENDER, PHONE, report, document)

        await events.wait_until(lambda: len(events.of("message")) == 3, TIMEOUT, "3 messages")
        got: list[IncomingMessage] = events.of("message")
        assert [m.id_message for m in got] == [first, lost, last]
        voice_file, none, document_file = (m.file for m in got)
        assert voice_file is not None and document_file is not None
        assert await _bytes_of(blobs, voice_file) == voice
        assert (voice_file.mime_type, voice_file.size) == ("audio/ogg", len(voice))
        assert voice_file.sha256 == hashlib.sha256(voice).hexdigest()
        assert await _bytes_of(blobs, document_file) == document
        assert (document_file.mime_type, document_file.file_name) == ("application/pdf", "q3.pdf")
        # Delivered all the same, without a file: the runner gives it no link.
        assert none is None
        assert got[1].message_data["fileMessageData"]["downloadUrl"] == ""
        # One line, from the worker, through the engine's log.
        told = [r.message for r in caplog.records if "could not be downloaded" in r.message]
        assert len(told) == 1 and told[0].endswith(f"the file of {lost} could not be downloaded")

    async def test_a_file_the_store_no_longer_holds_or_too_large_is_not_sent(
        self,
        engine_ctx: Context,
        linked: Linked,
        network: Network,
        made_engines: list[WhatsAppEngine],
        make_whatsapp: MakeWhatsApp,
    ) -> None:
        host = engine_ctx.engines.host
        settings = host.settings
        small = settings.model_copy(
            update={"media": settings.media.model_copy(update={"max_file_bytes": 1000})}
        )
        make_whatsapp()  # the stand-in's workers and environment, for the engine below
        env = made_engines[0].supervisor.config.env
        engine = WhatsAppEngine(replace(host, settings=small), standin_settings(), worker_env=env)
        made_engines.append(engine)
        a, _ = await linked(engine, PHONE)
        big = await put_file(host.blobs, file_of(1001), "big.jpg")
        with pytest.raises(EngineError, match="the file is over 1000 bytes"):
            await a.send(OutgoingMessage("BAE5F11E00000002", wid_of(OTHER_PHONE), _image("b"), big))
        gone = replace(await put_file(host.blobs, file_of(10), "gone.jpg"), key=new_key())
        with pytest.raises(EngineError, match="no longer kept"):
            await a.send(
                OutgoingMessage("BAE5F11E00000003", wid_of(OTHER_PHONE), _image("g"), gone)
            )
        no_file = OutgoingMessage("BAE5F11E00000004", wid_of(OTHER_PHONE), _image("n"))
        with pytest.raises(EngineError, match="a file message needs its file"):
            await a.send(no_file)
        assert network.messages_to(OTHER_PHONE) == []
