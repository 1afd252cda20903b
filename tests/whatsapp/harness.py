"""Fixtures of the whatsapp engine's tests: engines whose workers run the stand-in client."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fleetgate.context import Context
from fleetgate.domain.files import StoredFile
from fleetgate.domain.instances import State
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import IncomingMessage, SessionSpec
from fleetgate.runner import calls
from fleetgate.storage.blobs import BlobStore, new_key
from fleetgate_whatsapp.engine import WhatsAppEngine, WhatsAppSession
from fleetgate_whatsapp.settings import WhatsAppSettings
from tests.engines.contract import PHONE, Link, NewInstance, RecordingEvents, wid_of
from tests.support import fresh_database
from tests.whatsapp.standin import ENV_DIR, Network

REPO = Path(__file__).resolve().parents[2]
STANDIN = "tests.whatsapp.standin:factory"

MakeWhatsApp = Callable[..., WhatsAppEngine]
# A worker process starts for the first session of an engine (python and its imports).
LINK_TIMEOUT_S = 20.0


def standin_settings(**overrides: Any) -> WhatsAppSettings:
    """Engine settings for tests: the stand-in client, short pauses."""
    values: dict[str, Any] = {
        "client_factory": STANDIN,
        "restart_backoff_min_s": 0.05,
        "restart_backoff_max_s": 0.5,
        "start_timeout_s": 20.0,
        "call_timeout_s": 20.0,
        "stop_timeout_s": 5.0,
        "qr_wait_s": 10.0,
    }
    return WhatsAppSettings(**{**values, **overrides})


class WhatsAppFixtures:
    """The whatsapp engine's answers to the contract's engine-specific fixtures."""

    # A worker process starts for the first session of an engine (python and its imports).
    EVENT_TIMEOUT_S: ClassVar[float] = 20.0

    @pytest.fixture
    def network(self, tmp_path: Path) -> Network:
        return Network(tmp_path / "standin")

    @pytest.fixture
    async def made_engines(self) -> AsyncIterator[list[WhatsAppEngine]]:
        """Every engine a test made, closed (workers ended) at its end."""
        made: list[WhatsAppEngine] = []
        yield made
        for engine in made:
            await engine.aclose()

    @pytest.fixture
    def make_whatsapp(
        self, engine_ctx: Context, network: Network, made_engines: list[WhatsAppEngine]
    ) -> MakeWhatsApp:
        """Factory: ``make_whatsapp(env=None, **settings)``, an engine with the stand-in's
        workers (``env``: more variables for them)."""
        host = engine_ctx.engines.host
        base_env = {ENV_DIR: str(network.folder), "PYTHONPATH": str(REPO)}

        def make(env: dict[str, str] | None = None, **overrides: Any) -> WhatsAppEngine:
            worker_env = {**base_env, **(env or {})}
            engine = WhatsAppEngine(host, standin_settings(**overrides), worker_env=worker_env)
            made_engines.append(engine)
            return engine

        return make

    @pytest.fixture
    def make_engine(self, make_whatsapp: MakeWhatsApp) -> Callable[[], WhatsAppEngine]:
        return make_whatsapp

    @pytest.fixture
    def link(self, network: Network, made_engines: list[WhatsAppEngine]) -> Link:
        """The phone scans the QR the instance's running session shows now."""

        async def link(id_instance: int, phone: str) -> None:
            session = running_session(made_engines, id_instance)
            shown = await session.qr()
            assert network.scan(shown.payload, phone), f"no device shows {shown.payload}"

        return link


Start = Callable[..., Awaitable[tuple[WhatsAppSession, "EveryEvent"]]]


class StartedSessions:
    """A ``start`` fixture: sessions of the test's instances, stopped at its end."""

    @pytest.fixture
    async def start(self, new_instance: NewInstance) -> AsyncIterator[Start]:
        """Factory: ``start(engine, id_instance=None, auth=None)`` -> a started session."""
        started: list[WhatsAppSession] = []

        async def start(
            engine: WhatsAppEngine,
            id_instance: int | None = None,
            auth: dict[str, Any] | None = None,
        ) -> tuple[WhatsAppSession, EveryEvent]:
            events = EveryEvent()
            spec = SessionSpec(id_instance=id_instance or await new_instance(), auth=auth)
            session = engine.open_session(spec, events)
            started.append(session)
            await session.start()
            return session, events

        yield start
        for session in started:
            await session.stop()

    async def _linked(
        self, engine: WhatsAppEngine, start: Start, link: Link, phone: str = PHONE
    ) -> tuple[WhatsAppSession, EveryEvent]:
        """A started session of a new instance, linked to ``phone``."""
        session, events = await start(engine)
        await link(session.sid, phone)
        await events.wait_for_state(State.AUTHORIZED, wid_of(phone), timeout=LINK_TIMEOUT_S)
        return session, events


class EveryEvent(RecordingEvents):
    """RecordingEvents that keeps messages, receipts and presences too."""

    async def message_received(self, message: IncomingMessage) -> None:
        self.calls.append(("message", message))
        self._changed.set()

    async def receipt(self, *, id_message: str, chat_id: str, status: MessageStatus) -> None:
        self.calls.append(("receipt", (id_message, chat_id, status)))
        self._changed.set()

    async def presence(self, *, chat_id: str, status: str, last_seen_ms: int | None) -> None:
        self.calls.append(("presence", (chat_id, status, last_seen_ms)))
        self._changed.set()

    def of(self, kind: str) -> list[Any]:
        return [value for each, value in self.calls if each == kind]


def running_session(engines: list[WhatsAppEngine], id_instance: int) -> WhatsAppSession:
    """The running session of an instance, on the newest engine that has one."""
    for engine in reversed(engines):
        session = engine.sessions.get(id_instance)
        if session is not None:
            return session
    raise AssertionError(f"no running session of instance {id_instance}")


async def ask(session: WhatsAppSession, method: str, **args: Any) -> Any:
    """The runner's answer to an engine call (runner/calls.py, as the API's calls reach a
    session), unpacked: {"ok": ...} or {"error": ...}."""
    return json.loads(await calls.answer(session, method, args))


async def put_file(blobs: BlobStore, content: bytes, name: str) -> StoredFile:
    """A JPEG in the media store, as the runner leaves a file before an engine call."""
    key = new_key()

    async def parts() -> AsyncIterator[bytes]:
        yield content

    await blobs.put(key, parts())
    sha256 = hashlib.sha256(content).hexdigest()
    return StoredFile(key, len(content), sha256, "image/jpeg", name)


class SqliteOnly:
    """For tests whose subject does not touch the database: one backend is enough."""

    @pytest.fixture(scope="class")
    @classmethod
    async def engine_database_url(
        cls, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[str]:
        async with fresh_database("sqlite", tmp_path_factory.mktemp("whatsapp")) as url:
            yield url
