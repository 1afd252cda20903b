"""The contract every engine must pass, as a reusable test suite.

To test an engine, subclass :class:`EngineContract` in a ``test_*.py`` module and provide two
fixtures:

``make_engine``
    A callable that builds a new engine of the kind under test on ``engine_ctx`` (its database
    and signals). Calling it twice must give two independent engines, as two processes would
    have: the restart tests open a session on a second engine with saved credentials.
``link``
    ``async link(id_instance, phone)``: authorize the instance from the *phone side*, the way a
    user's phone would (scan the QR the instance shows, or type its pairing code). Sessions
    learn of it on their own; the contract waits for them.

The harness creates instances as real rows (a partner and instances through the services) in a
database of each backend, so engines may keep whatever they need in the database. One database
serves a whole test class (creating one per test costs half a second on PostgreSQL); tests keep
apart by using their own partner and instances.
"""

from __future__ import annotations

import asyncio
import copy
import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import suppress
from pathlib import Path
from typing import Any, ClassVar

import pytest

from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import State
from fleetgate.domain.partners import Partner
from fleetgate.engines.base import (
    NOT_SUPPORTED,
    Engine,
    EngineError,
    Session,
    SessionSpec,
)
from fleetgate.runner import calls
from fleetgate.runner.calls import answer
from fleetgate.services import engine_calls, partners
from fleetgate.settings import Settings
from tests.factories import create_instances, running_context
from tests.support import BACKENDS, fresh_database

PHONE = "79001234567"
OTHER_PHONE = "380501112233"

MakeEngine = Callable[[], Engine]
Link = Callable[[int, str], Awaitable[None]]
NewInstance = Callable[[], Awaitable[int]]


class RecordingEvents:
    """A SessionEvents that keeps every call, in order, and lets a test wait for one."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []
        self._changed = asyncio.Event()

    async def state_changed(self, state: str, *, wid: str) -> None:
        self.calls.append(("state", (state, wid)))
        self._changed.set()

    async def auth_changed(self, auth: dict[str, Any] | None) -> None:
        # A copy: what was reported must not change if the engine mutates its own dict later.
        self.calls.append(("auth", copy.deepcopy(auth)))
        self._changed.set()

    async def group_changed(self, event: Any) -> None:
        self.calls.append(("group", event))
        self._changed.set()

    @property
    def states(self) -> list[tuple[str, str]]:
        return [value for kind, value in self.calls if kind == "state"]

    @property
    def auths(self) -> list[dict[str, Any] | None]:
        return [value for kind, value in self.calls if kind == "auth"]

    @property
    def state(self) -> tuple[str, str] | None:
        """The last reported (state, wid), or None before any report."""
        states = self.states
        return states[-1] if states else None

    async def wait_for_state(self, state: str, wid: str, *, timeout: float) -> None:
        """Wait (bounded) until the last reported state is ``(state, wid)``."""
        await self.wait_until(lambda: self.state == (state, wid), timeout, f"{state} {wid!r}")

    async def wait_until(self, check: Callable[[], bool], timeout: float, what: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not check():
            left = deadline - loop.time()
            if left <= 0:
                raise AssertionError(f"no {what} within {timeout} s; calls: {self.calls}")
            self._changed.clear()
            if check():
                return
            with suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)


OpenSession = Callable[..., tuple[Session, RecordingEvents]]


class EngineHarness:
    """Fixtures every engine test needs: a database with a partner, instances, sessions.

    Subclasses provide ``make_engine`` and ``link`` (see the module docstring).
    """

    # Upper bound for anything a session reports asynchronously (after a phone-side action).
    EVENT_TIMEOUT_S: ClassVar[float] = 5.0

    @pytest.fixture(scope="class", params=BACKENDS)
    @classmethod
    async def engine_database_url(
        cls, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
    ) -> AsyncIterator[str]:
        """A new empty database of each backend, shared by the tests of one class."""
        async with fresh_database(request.param, tmp_path_factory.mktemp("engines")) as url:
            yield url

    @pytest.fixture
    async def engine_ctx(self, engine_database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
        """This test's handle on the migrated database, with its signals listening."""
        settings = Settings(data_dir=tmp_path, database_url=engine_database_url)
        async with running_context(settings) as ctx:
            yield ctx

    @pytest.fixture
    async def partner(self, engine_ctx: Context) -> Partner:
        async with engine_ctx.db.transaction() as session:
            partner, _ = await partners.create_partner(
                session=session, name=f"contract-{secrets.token_hex(4)}"
            )
        return partner

    @pytest.fixture
    def new_instance(self, engine_ctx: Context, partner: Partner) -> NewInstance:
        """Factory: a new instance row of ``partner``; returns its idInstance."""

        async def make() -> int:
            (id_instance,) = await create_instances(engine_ctx, 1, partner=partner)
            return id_instance

        return make

    @pytest.fixture
    async def open_session(self, engine_ctx: Context) -> AsyncIterator[OpenSession]:
        """Factory: ``open_session(engine, id_instance, auth=None)`` -> (session, events).

        Every session opened through it is stopped at the end of the test.
        """
        opened: list[Session] = []

        def open_(
            engine: Engine, id_instance: int, auth: dict[str, Any] | None = None
        ) -> tuple[Session, RecordingEvents]:
            events = RecordingEvents()
            session = engine.open_session(SessionSpec(id_instance=id_instance, auth=auth), events)
            opened.append(session)
            return session, events

        yield open_
        for session in opened:
            with suppress(Exception):
                await session.stop()

    @pytest.fixture
    def make_engine(self) -> MakeEngine:
        raise NotImplementedError(f"{type(self).__name__} must provide the make_engine fixture")

    @pytest.fixture
    def link(self) -> Link:
        raise NotImplementedError(f"{type(self).__name__} must provide the link fixture")

    @pytest.fixture
    def engine(self, make_engine: MakeEngine) -> Engine:
        return make_engine()


def wid_of(phone: str) -> str:
    return f"{phone}@c.us"


class EngineContract(EngineHarness):
    """What the runner relies on from every engine's sessions."""

    # Whether the engine has group chats (engines/base.py GroupSession); without them every
    # group call must answer NOT_SUPPORTED.
    GROUPS: ClassVar[bool] = False
    # Whether the engine reports changes of groups to its sessions' events (group_changed).
    GROUP_EVENTS: ClassVar[bool] = True

    async def _marker(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        """A later event on the same engine: a new instance linked and seen by its session.

        A test that checks that nothing was reported waits for this first: anything the engine
        was made to report before (a stray wake-up, a sweep's pokes) comes before it, so the
        check does not pass merely because a slow machine had not got round to it yet.
        """
        await self._linked(engine, open_session, new_instance, link)

    async def _linked(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> tuple[int, Session, RecordingEvents]:
        """A started session whose instance was then linked to PHONE from the phone side."""
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        await link(id_instance, PHONE)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        return id_instance, session, events

    async def test_chat_calls_are_done_or_not_supported(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        """The optional chat calls (engines/base.py ChatSession): a linked session does each
        one or answers NOT_SUPPORTED, the text the façades show; never another failure."""
        _, session, _ = await self._linked(engine, open_session, new_instance, link)
        chat = wid_of(OTHER_PHONE)
        asked = {
            engine_calls.DELETE_MESSAGE: {"chatId": chat, "idMessage": "A1", "forEveryone": True},
            engine_calls.EDIT_MESSAGE: {
                "chatId": chat,
                "idMessage": "A1",
                "idEdit": "A2",
                "text": "new",
            },
            engine_calls.SEND_TYPING: {"chatId": chat, "recording": False, "durationMs": 1000},
            engine_calls.ARCHIVE_CHAT: {"chatId": chat, "archived": True},
            engine_calls.SET_DISAPPEARING: {"chatId": chat, "expiration": 86400},
            engine_calls.MODIFY_CHAT: {"chatId": chat, "action": "pin"},
            engine_calls.BLOCK_CONTACT: {"chatId": chat, "blocked": True},
        }
        for method, args in asked.items():
            answer = json.loads(await calls.answer(session, method, args))
            assert answer in ({"ok": True}, {"error": NOT_SUPPORTED}), (method, answer)

    async def test_start_of_unlinked_instance_reports_not_authorized(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance
    ) -> None:
        session, events = open_session(engine, await new_instance())
        await session.start()
        # start() reports the resulting state before it returns: no waiting here.
        assert events.state == (State.NOT_AUTHORIZED, "")
        assert (State.AUTHORIZED, wid_of(PHONE)) not in events.states
        assert all(auth is None for auth in events.auths)

    async def test_qr_has_payload_and_future_expiry_and_stays_until_it_expires(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance
    ) -> None:
        session, _ = open_session(engine, await new_instance())
        await session.start()
        first = await session.qr()
        assert isinstance(first.payload, str)
        assert first.payload
        assert first.expires_ms > now_ms()
        second = await session.qr()
        if now_ms() < first.expires_ms:
            assert second == first

    async def test_pairing_code_is_not_empty(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance
    ) -> None:
        session, _ = open_session(engine, await new_instance())
        await session.start()
        code = await session.pairing_code(PHONE)
        assert isinstance(code, str)
        assert code.strip()

    async def test_link_from_phone_authorizes_and_saves_credentials(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        _, _, events = await self._linked(engine, open_session, new_instance, link)
        saved = [auth for auth in events.auths if auth is not None]
        assert saved, f"auth_changed was never called with credentials: {events.calls}"
        assert isinstance(saved[-1], dict)
        assert saved[-1]
        # The runner keeps credentials as JSON.
        assert json.loads(json.dumps(saved[-1])) == saved[-1]
        # Credentials are durable before the instance is reported usable, so a crash right
        # after "authorized" cannot lose them.
        first_auth = events.calls.index(("auth", saved[-1]))
        first_authorized = events.calls.index(("state", (State.AUTHORIZED, wid_of(PHONE))))
        assert first_auth < first_authorized

    async def test_qr_and_pairing_code_are_refused_once_authorized(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        _, session, _ = await self._linked(engine, open_session, new_instance, link)
        with pytest.raises(EngineError):
            await session.qr()
        with pytest.raises(EngineError):
            await session.pairing_code(OTHER_PHONE)

    async def test_saved_credentials_start_authorized_on_a_new_engine(
        self,
        engine: Engine,
        make_engine: MakeEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> None:
        id_instance, session, events = await self._linked(engine, open_session, new_instance, link)
        credentials = json.loads(json.dumps(events.auths[-1]))
        await session.stop()
        assert events.auths[-1] is not None, "stop() must keep the credentials"

        # As after a process restart: another engine, the credentials the runner saved.
        restarted, events_after = open_session(make_engine(), id_instance, credentials)
        await restarted.start()
        assert events_after.states == [(State.AUTHORIZED, wid_of(PHONE))]
        assert None not in events_after.auths
        with pytest.raises(EngineError):
            await restarted.qr()

    async def test_logout_reports_not_authorized_and_forgets_credentials(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        _, session, events = await self._linked(engine, open_session, new_instance, link)
        await session.logout()
        assert events.state == (State.NOT_AUTHORIZED, "")
        assert events.auths[-1] is None

    async def test_credentials_forgotten_by_logout_no_longer_authorize(
        self,
        engine: Engine,
        make_engine: MakeEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> None:
        id_instance, session, events = await self._linked(engine, open_session, new_instance, link)
        stale = json.loads(json.dumps(events.auths[-1]))
        await session.logout()
        await session.stop()

        again, events_again = open_session(make_engine(), id_instance, stale)
        await again.start()
        assert events_again.state == (State.NOT_AUTHORIZED, "")
        assert (State.AUTHORIZED, wid_of(PHONE)) not in events_again.states
        assert all(auth is None for auth in events_again.auths)

    async def test_after_logout_the_instance_can_be_linked_again(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        id_instance, session, events = await self._linked(engine, open_session, new_instance, link)
        await session.logout()
        assert (await session.qr()).payload
        await link(id_instance, OTHER_PHONE)
        await events.wait_for_state(
            State.AUTHORIZED, wid_of(OTHER_PHONE), timeout=self.EVENT_TIMEOUT_S
        )
        assert events.auths[-1] is not None

    async def test_stopped_session_reports_nothing_more(
        self,
        engine: Engine,
        make_engine: MakeEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        await session.stop()
        seen = list(events.calls)

        # A witness on another engine shows when the link has reached sessions at all.
        witness, witness_events = open_session(make_engine(), id_instance)
        await witness.start()
        await link(id_instance, PHONE)
        await witness_events.wait_for_state(
            State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S
        )
        await session.poke()
        await self._marker(engine, open_session, new_instance, link)
        assert events.calls == seen

    async def test_poke_is_safe_at_any_time(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.poke()  # before start
        await session.start()
        await asyncio.gather(*(session.poke() for _ in range(5)))
        assert events.state == (State.NOT_AUTHORIZED, "")

        await link(id_instance, PHONE)
        await asyncio.gather(*(session.poke() for _ in range(5)))
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        assert events.auths[-1] is not None

        await session.logout()
        await asyncio.gather(*(session.poke() for _ in range(5)))
        assert events.state == (State.NOT_AUTHORIZED, "")
        assert events.auths[-1] is None

        await session.stop()
        seen = list(events.calls)
        await session.poke()
        assert events.calls == seen

    async def test_sweep_is_safe_at_any_time_and_changes_nothing_unchanged(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        await engine.sweep()  # no sessions yet
        stopped, stopped_events = open_session(engine, await new_instance())
        await stopped.start()
        await stopped.stop()
        seen = list(stopped_events.calls)

        session, events = open_session(engine, await new_instance())
        await session.start()
        await engine.sweep()
        assert events.state == (State.NOT_AUTHORIZED, "")
        *_, linked_events = await self._linked(engine, open_session, new_instance, link)
        await asyncio.gather(engine.sweep(), engine.sweep())
        await self._marker(engine, open_session, new_instance, link)
        assert events.state == (State.NOT_AUTHORIZED, "")
        assert linked_events.state == (State.AUTHORIZED, wid_of(PHONE))
        assert None not in linked_events.auths
        assert stopped_events.calls == seen

    async def test_linking_one_instance_leaves_another_alone(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        other, other_events = open_session(engine, await new_instance())
        await other.start()
        await self._linked(engine, open_session, new_instance, link)
        await other.poke()
        assert other_events.state == (State.NOT_AUTHORIZED, "")
        assert all(state == State.NOT_AUTHORIZED for state, _ in other_events.states)
        assert all(auth is None for auth in other_events.auths)
        assert (await other.qr()).payload

    async def test_group_calls_work_or_answer_not_supported(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        _, session, _ = await self._linked(engine, open_session, new_instance, link)
        other = wid_of(OTHER_PHONE)

        async def call(method: str, **args: Any) -> Any:
            return json.loads(await calls.answer(session, method, args))

        made = await call(engine_calls.CREATE_GROUP, groupName="Contract", chatIds=[other])
        if not self.GROUPS:
            assert made == {"error": NOT_SUPPORTED}
            for method in GROUP_CALLS:
                assert await call(method, groupId="1203630000@g.us") == {"error": NOT_SUPPORTED}
            return
        group = made["ok"]["chatId"]
        assert group.endswith("@g.us")
        assert made["ok"]["groupInviteLink"].startswith("https://")

        async def data() -> dict[str, Any]:
            found: dict[str, Any] = (await call(engine_calls.GROUP_DATA, groupId=group))["ok"]
            return found

        seen = await data()
        assert seen["owner"] == wid_of(PHONE)
        assert {p["id"]: p["isAdmin"] for p in seen["participants"]} == {
            wid_of(PHONE): True,
            other: False,
        }
        on_other = {"groupId": group, "participantChatId": other}
        assert await call(engine_calls.UPDATE_GROUP_NAME, groupId=group, groupName="B") == {
            "ok": ""
        }
        assert (await data())["subject"] == "B"
        assert await call(engine_calls.SET_GROUP_ADMIN, **on_other) == {"ok": ""}
        assert await call(engine_calls.REMOVE_GROUP_ADMIN, **on_other) == {"ok": ""}
        # A refusal is an answer with its reason, not an error.
        assert (await call(engine_calls.ADD_GROUP_PARTICIPANT, **on_other))["ok"]
        assert await call(engine_calls.REMOVE_GROUP_PARTICIPANT, **on_other) == {"ok": ""}
        assert [p["id"] for p in (await data())["participants"]] == [wid_of(PHONE)]
        assert await call(engine_calls.ADD_GROUP_PARTICIPANT, **on_other) == {"ok": ""}
        settings = {"allowParticipantsSendMessages": False}
        assert await call(engine_calls.UPDATE_GROUP_SETTINGS, groupId=group, **settings) == {
            "ok": ""
        }
        assert await call(engine_calls.LEAVE_GROUP, groupId=group) == {"ok": ""}
        after = await call(engine_calls.GROUP_DATA, groupId=group)
        # The sandbox shows a group to anyone; WhatsApp to its members only.
        if "error" in after:
            assert after == {"error": "not a member of the group"}
        else:
            assert [p["id"] for p in after["ok"]["participants"]] == [other]
        assert (await call(engine_calls.LEAVE_GROUP, groupId=group))["ok"]

    async def test_group_admin_calls_work_or_answer_not_supported(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        """The calls of engines/base.py GroupAdminSession (Z-API's group routes): done, or
        NOT_SUPPORTED for an engine without groups, or for each method an engine with groups
        lacks (its library cannot do it); refusals are answers, not errors."""
        _, session, events = await self._linked(engine, open_session, new_instance, link)
        other = wid_of(OTHER_PHONE)

        async def call(method: str, **args: Any) -> Any:
            return json.loads(await calls.answer(session, method, args))

        lacking = [m for m in GROUP_ADMIN_CALLS if getattr(session, m, None) is None]
        if not self.GROUPS:
            assert lacking == list(GROUP_ADMIN_CALLS)
        for method in lacking:
            got = await call(method, groupId="1203630000@g.us", link="https://x/y")
            assert got == {"error": NOT_SUPPORTED}, method
        if not self.GROUPS:
            return

        def has(*methods: str) -> bool:
            return not set(methods) & set(lacking)

        made = (await call(engine_calls.CREATE_GROUP, groupName="Admin", chatIds=[other]))["ok"]
        group, first_link = made["chatId"], made["groupInviteLink"]

        async def metadata() -> dict[str, Any]:
            found: dict[str, Any] = (await call(engine_calls.GROUP_METADATA, groupId=group))["ok"]
            return found

        if has(engine_calls.GROUP_METADATA):
            seen = await metadata()
            assert seen["groupId"] == group and seen["description"] == ""
            assert seen["requireAdminApproval"] is False
            missing = await call(engine_calls.GROUP_METADATA, groupId="1203630000@g.us")
            assert missing == {"ok": None}
        if has(engine_calls.JOINED_GROUPS):
            joined = (await call(engine_calls.JOINED_GROUPS))["ok"]
            assert group in [g["groupId"] for g in joined]
        if has(engine_calls.UPDATE_GROUP_DESCRIPTION):
            described = await call(
                engine_calls.UPDATE_GROUP_DESCRIPTION, groupId=group, description="D"
            )
            assert described == {"ok": ""}
        if has(engine_calls.UPDATE_GROUP_POLICY):
            policy = {"membersAdd": True, "approval": True}
            changed = await call(engine_calls.UPDATE_GROUP_POLICY, groupId=group, **policy)
            assert changed == {"ok": ""}
        if has(
            engine_calls.GROUP_METADATA,
            engine_calls.UPDATE_GROUP_DESCRIPTION,
            engine_calls.UPDATE_GROUP_POLICY,
        ):
            seen = await metadata()
            assert seen["description"] == "D" and seen["requireAdminApproval"] is True
            assert seen["allowParticipantsAddMembers"] is True
        if has(engine_calls.RESET_GROUP_INVITE):
            reset = (await call(engine_calls.RESET_GROUP_INVITE, groupId=group))["ok"]
            assert reset["reason"] == "" and reset["link"].startswith("https://")
            assert reset["link"] != first_link
        if has(engine_calls.RESET_GROUP_INVITE, engine_calls.GROUP_INVITE_INFO):
            info = (await call(engine_calls.GROUP_INVITE_INFO, link=reset["link"]))["ok"]
            assert info["groupId"] == group and info["groupInviteLink"] == reset["link"]
            assert await call(engine_calls.GROUP_INVITE_INFO, link=first_link) == {"ok": None}
        # Refusals: a link that leads nowhere (any more), a request nobody made.
        if has(engine_calls.RESET_GROUP_INVITE, engine_calls.JOIN_GROUP):
            assert (await call(engine_calls.JOIN_GROUP, link=first_link))["ok"]["reason"]
        if has(engine_calls.DECIDE_GROUP_REQUEST):
            decided = {"groupId": group, "participantChatId": other, "approve": True}
            assert (await call(engine_calls.DECIDE_GROUP_REQUEST, **decided))["ok"]
        if self.GROUP_EVENTS:
            # Each change was reported to the session's events as a group change.
            await events.wait_until(
                lambda: any(kind == "group" for kind, _ in events.calls),
                self.EVENT_TIMEOUT_S,
                "group",
            )

    async def test_statuses_are_posted_listed_counted_and_deleted_or_not_supported(
        self, engine: Engine, open_session: OpenSession, new_instance: NewInstance, link: Link
    ) -> None:
        """The optional status methods, through the runner's call table: an engine that has
        them keeps its own statuses; one that lacks them answers NOT_SUPPORTED to each."""
        _, session, _ = await self._linked(engine, open_session, new_instance, link)
        id_message = secrets.token_hex(10).upper()
        text = {"text": "contract", "backgroundColor": "#FFFFFF"}
        data = {"typeMessage": "extendedTextMessage", "extendedTextMessageData": text}
        calls = {
            engine_calls.SEND_STATUS: {"idMessage": id_message, "messageData": data},
            engine_calls.STATUSES: {"incoming": False, "sinceMs": now_ms() - 60_000},
            engine_calls.STATUS_STATISTIC: {"idMessage": id_message},
            engine_calls.DELETE_STATUS: {"idMessage": id_message},
        }
        if getattr(session, "send_status", None) is None:
            for method, args in calls.items():
                assert json.loads(await answer(session, method, args)) == {"error": NOT_SUPPORTED}
            return
        for method, args in calls.items():
            got = json.loads(await answer(session, method, args))
            assert "ok" in got, (method, got)
            if method == engine_calls.STATUSES:
                mine = [s for s in got["ok"] if s["idMessage"] == id_message]
                assert [s["messageData"] for s in mine] == [data]
                assert mine[0]["sender"] == wid_of(PHONE)
            elif method == engine_calls.STATUS_STATISTIC:
                assert isinstance(got["ok"], list)
            elif method == engine_calls.DELETE_STATUS:
                assert got["ok"] is True
        again = json.loads(
            await answer(session, engine_calls.DELETE_STATUS, {"idMessage": id_message})
        )
        assert again == {"ok": False}
        gone = json.loads(
            await answer(session, engine_calls.STATUSES, calls[engine_calls.STATUSES])
        )
        assert id_message not in [s["idMessage"] for s in gone["ok"]]


GROUP_CALLS = (
    engine_calls.GROUP_DATA,
    engine_calls.UPDATE_GROUP_NAME,
    engine_calls.ADD_GROUP_PARTICIPANT,
    engine_calls.REMOVE_GROUP_PARTICIPANT,
    engine_calls.SET_GROUP_ADMIN,
    engine_calls.REMOVE_GROUP_ADMIN,
    engine_calls.LEAVE_GROUP,
    engine_calls.SET_GROUP_PICTURE,
    engine_calls.UPDATE_GROUP_SETTINGS,
)
GROUP_ADMIN_CALLS = (
    engine_calls.GROUP_METADATA,
    engine_calls.JOINED_GROUPS,
    engine_calls.UPDATE_GROUP_DESCRIPTION,
    engine_calls.UPDATE_GROUP_POLICY,
    engine_calls.RESET_GROUP_INVITE,
    engine_calls.GROUP_INVITE_INFO,
    engine_calls.JOIN_GROUP,
    engine_calls.DECIDE_GROUP_REQUEST,
)
