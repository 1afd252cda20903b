"""The sandbox engine: the engine contract, and the virtual network's own rules."""

from __future__ import annotations

import asyncio
import secrets
import string
from typing import ClassVar

import pytest
from sqlalchemy import delete, select, update

from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import State
from fleetgate.domain.partners import Partner
from fleetgate.engines.registry import EngineRegistry
from fleetgate.engines.sandbox import SandboxEngine, network
from fleetgate.runner.runner import Runner, RunnerConfig
from fleetgate.services import instances, partners
from fleetgate.storage.tables import InstanceRow, SandboxLinkRow, SandboxPairingRow
from tests.engines.contract import (
    OTHER_PHONE,
    PHONE,
    EngineContract,
    EngineHarness,
    Link,
    MakeEngine,
    NewInstance,
    OpenSession,
    wid_of,
)
from tests.factories import create_instances


class SandboxFixtures:
    """The sandbox's answers to the contract's engine-specific fixtures."""

    # A phone number belongs to the first partner that uses it, and the tests of a class share a
    # database and the contract's fixed numbers: they all act as one partner of that database.
    _partners: ClassVar[dict[str, Partner]] = {}

    @pytest.fixture
    async def partner(self, engine_ctx: Context, engine_database_url: str) -> Partner:
        if engine_database_url not in self._partners:
            async with engine_ctx.db.transaction() as session:
                made, _ = await partners.create_partner(
                    session=session, name=f"contract-{secrets.token_hex(4)}"
                )
            self._partners[engine_database_url] = made
        return self._partners[engine_database_url]

    @pytest.fixture
    def make_engine(self, engine_ctx: Context) -> MakeEngine:
        host = engine_ctx.engines.host
        return lambda: SandboxEngine(host)

    @pytest.fixture
    def link(self, engine_ctx: Context, partner: Partner) -> Link:
        """The phone scans the QR the instance shows now."""

        async def link(id_instance: int, phone: str) -> None:
            async with engine_ctx.db.transaction() as session:
                shown = await network.current_qr(session, id_instance)
            linked = await scan(engine_ctx, phone, shown.payload, partner)
            assert linked == id_instance

        return link


class TestSandboxEngineContract(SandboxFixtures, EngineContract):
    """The shared engine contract, for the sandbox engine on both databases."""

    GROUPS = True


async def scan(ctx: Context, phone: str, payload: str, partner: Partner) -> int | None:
    async with ctx.db.transaction() as session:
        return await network.scan_qr(
            session, ctx.signals, phone=phone, payload=payload, partner_id=partner.id
        )


async def enter(ctx: Context, phone: str, code: str, partner: Partner) -> int | None:
    async with ctx.db.transaction() as session:
        return await network.enter_code(
            session, ctx.signals, phone=phone, code=code, partner_id=partner.id
        )


async def phone_logout(ctx: Context, phone: str, partner: Partner) -> list[int]:
    async with ctx.db.transaction() as session:
        return await network.phone_logout(session, ctx.signals, phone=phone, partner_id=partner.id)


async def linked_phone(ctx: Context, id_instance: int) -> str | None:
    async with ctx.db.reading() as session:
        return await network.linked_phone(session, id_instance)


async def expire_pairing(ctx: Context, id_instance: int, *, qr: bool, code: bool) -> None:
    """Make the instance's QR and/or pairing code expired, instead of waiting for it."""
    values = {}
    if qr:
        values["qr_expires_ms"] = now_ms() - 1
    if code:
        values["code_expires_ms"] = now_ms() - 1
    async with ctx.db.transaction() as session:
        await session.execute(
            update(SandboxPairingRow)
            .where(SandboxPairingRow.id_instance == id_instance)
            .values(**values)
        )


class TestSandboxNetwork(SandboxFixtures, EngineHarness):
    """QR rotation, pairing codes, phone-side logout and partner isolation."""

    @pytest.fixture
    async def other_partner(self, engine_ctx: Context) -> Partner:
        async with engine_ctx.db.transaction() as session:
            partner, _ = await partners.create_partner(
                session=session, name=f"other-{secrets.token_hex(4)}"
            )
        return partner

    async def test_qr_rotates_once_expired(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        old = await session.qr()
        assert old.payload.startswith(f"fleetgate-sandbox:{id_instance}:")
        assert now_ms() < old.expires_ms <= now_ms() + network.QR_TTL_MS

        await expire_pairing(engine_ctx, id_instance, qr=True, code=False)
        new = await session.qr()
        assert new.payload != old.payload
        assert new.expires_ms > now_ms()
        assert await session.qr() == new

        assert await scan(engine_ctx, PHONE, old.payload, partner) is None
        assert await scan(engine_ctx, PHONE, new.payload, partner) == id_instance
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)

    async def test_expired_qr_cannot_be_scanned(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        shown = await session.qr()
        await expire_pairing(engine_ctx, id_instance, qr=True, code=False)
        assert await scan(engine_ctx, PHONE, shown.payload, partner) is None
        assert await linked_phone(engine_ctx, id_instance) is None
        await session.poke()
        assert events.state == (State.NOT_AUTHORIZED, "")

    async def test_each_instance_shows_its_own_qr(
        self, engine: SandboxEngine, open_session: OpenSession, new_instance: NewInstance
    ) -> None:
        first, _ = open_session(engine, await new_instance())
        second, _ = open_session(engine, await new_instance())
        await first.start()
        await second.start()
        assert (await first.qr()).payload != (await second.qr()).payload

    async def test_pairing_code_links_only_the_phone_it_was_issued_for(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        code = await session.pairing_code(PHONE)
        assert len(code) == 8
        assert set(code) <= set(string.ascii_uppercase + string.digits)

        assert await enter(engine_ctx, OTHER_PHONE, code, partner) is None
        assert await linked_phone(engine_ctx, id_instance) is None
        # Typed as a phone shows it: lower case, with a dash in the middle.
        typed = f"{code[:4]}-{code[4:]}".lower()
        assert await enter(engine_ctx, PHONE, typed, partner) == id_instance
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        assert events.auths[-1] is not None
        assert await linked_phone(engine_ctx, id_instance) == PHONE

    async def test_a_code_is_used_up_by_linking(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, _ = open_session(engine, id_instance)
        await session.start()
        code = await session.pairing_code(PHONE)
        assert await enter(engine_ctx, PHONE, code, partner) == id_instance
        assert await enter(engine_ctx, PHONE, code, partner) is None

    async def test_only_the_newest_pairing_code_counts(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, _ = open_session(engine, id_instance)
        await session.start()
        first = await session.pairing_code(PHONE)
        second = await session.pairing_code(PHONE)
        if first != second:
            assert await enter(engine_ctx, PHONE, first, partner) is None
        assert await enter(engine_ctx, PHONE, second, partner) == id_instance

    async def test_expired_pairing_code_is_refused(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        code = await session.pairing_code(PHONE)
        await expire_pairing(engine_ctx, id_instance, qr=False, code=True)
        assert await enter(engine_ctx, PHONE, code, partner) is None
        await session.poke()
        assert events.state == (State.NOT_AUTHORIZED, "")

    async def test_phone_logout_unlinks_every_instance_of_the_phone(
        self,
        engine_ctx: Context,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        partner: Partner,
        link: Link,
    ) -> None:
        number = fresh_number()  # number may still be linked to earlier tests' instances
        ids = [await new_instance(), await new_instance()]
        opened = [open_session(engine, id_instance) for id_instance in ids]
        for (session, _), id_instance in zip(opened, ids, strict=True):
            await session.start()
            await link(id_instance, number)
        for _, events in opened:
            await events.wait_for_state(
                State.AUTHORIZED, wid_of(number), timeout=self.EVENT_TIMEOUT_S
            )

        assert sorted(await phone_logout(engine_ctx, number, partner)) == sorted(ids)
        for (session, events), id_instance in zip(opened, ids, strict=True):
            await events.wait_for_state(State.NOT_AUTHORIZED, "", timeout=self.EVENT_TIMEOUT_S)
            assert events.auths[-1] is None
            assert await linked_phone(engine_ctx, id_instance) is None
            assert (await session.qr()).payload
        assert await phone_logout(engine_ctx, number, partner) == []

    async def test_phone_logout_reaches_only_its_partners_instances(
        self,
        engine_ctx: Context,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        other_partner: Partner,
        link: Link,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        await link(id_instance, PHONE)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)

        assert await phone_logout(engine_ctx, PHONE, other_partner) == []
        await session.poke()
        assert events.state == (State.AUTHORIZED, wid_of(PHONE))
        assert await linked_phone(engine_ctx, id_instance) == PHONE

    async def test_partner_cannot_scan_or_type_into_another_partners_instance(
        self,
        engine_ctx: Context,
        partner: Partner,
        other_partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        shown = await session.qr()
        code = await session.pairing_code(PHONE)

        assert await scan(engine_ctx, PHONE, shown.payload, other_partner) is None
        assert await enter(engine_ctx, PHONE, code, other_partner) is None
        assert await linked_phone(engine_ctx, id_instance) is None
        await session.poke()
        assert events.state == (State.NOT_AUTHORIZED, "")

        # The refused attempts used nothing up: the owner's phone still links with them.
        assert await scan(engine_ctx, PHONE, shown.payload, partner) == id_instance
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)

    async def test_a_scanned_qr_is_used_up(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        shown = await session.qr()
        assert await scan(engine_ctx, PHONE, shown.payload, partner) == id_instance
        assert await scan(engine_ctx, OTHER_PHONE, shown.payload, partner) is None
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        assert await linked_phone(engine_ctx, id_instance) == PHONE

    async def test_deleted_instance_cannot_be_linked(
        self,
        engine_ctx: Context,
        partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        id_instance = await new_instance()
        session, _ = open_session(engine, id_instance)
        await session.start()
        shown = await session.qr()
        code = await session.pairing_code(PHONE)
        async with engine_ctx.db.transaction() as db_session:
            await instances.delete_instance(
                session=db_session,
                signals=engine_ctx.signals,
                partner=partner,
                id_instance=id_instance,
            )
        assert await scan(engine_ctx, PHONE, shown.payload, partner) is None
        assert await enter(engine_ctx, PHONE, code, partner) is None
        assert await linked_phone(engine_ctx, id_instance) is None

    async def test_session_logout_unlinks_in_the_network(
        self,
        engine_ctx: Context,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        await link(id_instance, PHONE)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        await session.logout()
        assert await linked_phone(engine_ctx, id_instance) is None

    async def test_credentials_name_the_linked_phone(
        self,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> None:
        # Pinned because the runner has stored this shape; a change needs a migration of it.
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        await link(id_instance, PHONE)
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        assert events.auths == [{"phone": PHONE}]

    async def test_sweep_catches_up_on_links_and_unlinks_whose_signal_was_lost(
        self,
        engine_ctx: Context,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
        link: Link,
    ) -> None:
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        # What a phone does, committed without the wake-up signal.
        async with engine_ctx.db.transaction() as db_session:
            db_session.add(SandboxLinkRow(id_instance=id_instance, phone=PHONE, linked_ms=1))
        # A later link, with its signal, seen by another session of the engine: by then the
        # first would have been noticed too, if anything but a sweep could notice it.
        marker_id = await new_instance()
        marker, marker_events = open_session(engine, marker_id)
        await marker.start()
        await link(marker_id, OTHER_PHONE)
        await marker_events.wait_for_state(
            State.AUTHORIZED, wid_of(OTHER_PHONE), timeout=self.EVENT_TIMEOUT_S
        )
        assert events.state == (State.NOT_AUTHORIZED, "")

        await engine.sweep()
        await events.wait_for_state(State.AUTHORIZED, wid_of(PHONE), timeout=self.EVENT_TIMEOUT_S)
        assert events.auths[-1] == {"phone": PHONE}

        async with engine_ctx.db.transaction() as db_session:
            await db_session.execute(
                delete(SandboxLinkRow).where(SandboxLinkRow.id_instance == id_instance)
            )
        await engine.sweep()
        await events.wait_for_state(State.NOT_AUTHORIZED, "", timeout=self.EVENT_TIMEOUT_S)
        assert events.auths[-1] is None

    async def test_runner_notices_a_link_whose_signal_was_lost(
        self, engine_ctx: Context, new_instance: NewInstance
    ) -> None:
        id_instance = await new_instance()
        host = engine_ctx.engines.host
        runner = Runner(
            db=engine_ctx.db,
            signals=engine_ctx.signals,
            engines=EngineRegistry(host, {"sandbox": SandboxEngine}),
            media=engine_ctx.media,
            config=RunnerConfig(tick_s=0.05, lease_ttl_s=5.0),
        )
        await runner.start()
        try:
            await wait_for_row_state(engine_ctx, id_instance, State.NOT_AUTHORIZED, timeout=5.0)
            # The link a phone makes, committed without its wake-up signal.
            async with engine_ctx.db.transaction() as session:
                session.add(SandboxLinkRow(id_instance=id_instance, phone=PHONE, linked_ms=1))
            # Without its signal only the runner's own ticks (every 50 ms) can find the link;
            # the bound just keeps a broken build from hanging.
            await wait_for_row_state(engine_ctx, id_instance, State.AUTHORIZED, timeout=15.0)
        finally:
            await runner.stop()

    async def test_an_instance_cannot_link_to_a_number_another_partner_holds(
        self,
        engine_ctx: Context,
        partner: Partner,
        other_partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        held = fresh_number()
        async with engine_ctx.db.transaction() as db_session:
            assert await network.claim_phone(db_session, held, other_partner.id)
        id_instance = await new_instance()
        session, events = open_session(engine, id_instance)
        await session.start()
        # The code is issued (the instance API says nothing about who holds a number) but
        # neither it nor the QR links the instance to that number.
        code = await session.pairing_code(held)
        assert await enter(engine_ctx, held, code, partner) is None
        assert await scan(engine_ctx, held, (await session.qr()).payload, partner) is None
        assert await linked_phone(engine_ctx, id_instance) is None
        await session.poke()
        assert events.state == (State.NOT_AUTHORIZED, "")
        async with engine_ctx.db.reading() as db_session:
            assert await network.owner_of(db_session, held) == other_partner.id

    async def test_a_number_linked_to_another_partners_instance_cannot_be_linked(
        self,
        engine_ctx: Context,
        partner: Partner,
        other_partner: Partner,
        engine: SandboxEngine,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        # A state the shared-phones bug could leave: the number held by one partner, linked to
        # an instance of another.
        number = fresh_number()
        (foreign,) = await create_instances(engine_ctx, 1, partner=other_partner)
        async with engine_ctx.db.transaction() as db_session:
            assert await network.claim_phone(db_session, number, partner.id)
            db_session.add(SandboxLinkRow(id_instance=foreign, phone=number, linked_ms=now_ms()))
        id_instance = await new_instance()
        session, _ = open_session(engine, id_instance)
        await session.start()
        assert await scan(engine_ctx, number, (await session.qr()).payload, partner) is None
        assert await linked_phone(engine_ctx, id_instance) is None
        assert await linked_phone(engine_ctx, foreign) == number


def fresh_number() -> str:
    """A number no other test of the class holds (the contract's PHONE is held by ``partner``)."""
    return "77" + "".join(secrets.choice(string.digits) for _ in range(9))


async def wait_for_row_state(ctx: Context, id_instance: int, state: str, *, timeout: float) -> None:
    """Poll the instance row until its state is ``state`` (bounded)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    seen = None
    while loop.time() < deadline:
        async with ctx.db.reading() as session:
            seen = await session.scalar(
                select(InstanceRow.state).where(InstanceRow.id_instance == id_instance)
            )
        if seen == state:
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"instance {id_instance} never reached {state!r}; last {seen!r}")
