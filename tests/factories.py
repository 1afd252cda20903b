"""Shared test set-up through fleetgate's own services: contexts, instances, notifications."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager

from fleetgate.context import Context
from fleetgate.domain.config import ConfigPatch
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.partners import Partner
from fleetgate.services import instances, outbox, partners
from fleetgate.settings import Settings
from tests.support import Instance


@asynccontextmanager
async def running_context(settings: Settings) -> AsyncIterator[Context]:
    """A Context on a migrated database, its signals listening, closed at the end."""
    ctx = Context.from_settings(settings)
    await ctx.db.migrate()
    await ctx.signals.start()
    try:
        yield ctx
    finally:
        await ctx.signals.stop()
        await ctx.db.dispose()


async def new_partner(ctx: Context, prefix: str = "p") -> Partner:
    async with ctx.db.transaction() as session:
        partner, _ = await partners.create_partner(
            session=session, name=f"{prefix}-{secrets.token_hex(4)}"
        )
    return partner


async def new_partner_token(settings: Settings, prefix: str = "p") -> str:
    """A new partner's token, made through the services on the database of ``settings``."""
    ctx = Context.from_settings(settings)
    try:
        async with ctx.db.transaction() as session:
            _, token = await partners.create_partner(
                session=session, name=f"{prefix}-{secrets.token_hex(4)}"
            )
    finally:
        await ctx.db.dispose()
    return token


async def create_instances(
    ctx: Context, count: int, *, partner: Partner | None = None, patch: ConfigPatch | None = None
) -> list[int]:
    """``count`` new instances (of a new partner unless one is given); their ids."""
    owner = partner or await new_partner(ctx)
    async with ctx.db.transaction() as session:
        made = [
            await instances.create_instance(
                session=session,
                signals=ctx.signals,
                cipher=ctx.cipher,
                partner=owner,
                provisioning=ctx.provisioning,
                patch=patch or ConfigPatch(),
            )
            for _ in range(count)
        ]
    return [m.id_instance for m in made]


async def emit_seqs(ctx: Context, items: Iterable[tuple[int, int]]) -> None:
    """Queue one stateInstanceChanged notification carrying ``seq`` per (idInstance, seq)."""
    async with ctx.db.transaction() as session:
        for id_instance, seq in items:
            await outbox.emit(
                session=session,
                signals=ctx.signals,
                instance=state_notifying(id_instance),
                type_webhook="stateInstanceChanged",
                fields={"stateInstance": "notAuthorized", "seq": seq},
            )


def state_notifying(id_instance: int) -> InstanceView:
    """An instance view that wants stateInstanceChanged notifications (nothing else)."""
    return InstanceView(
        id_instance=id_instance,
        partner_id=0,
        type_instance="whatsapp",
        state="notAuthorized",
        wid="",
        webhook_url="",
        webhook_token_cipher=None,
        delay_send_ms=500,
        switches={"state_webhook": True},
    )


async def queue_states(ctx: Context, inst: Instance, states: list[str]) -> list[int]:
    """Queue stateInstanceChanged notifications directly (as the server would), in one commit."""
    ids: list[int] = []
    async with ctx.db.transaction() as session:
        for state in states:
            got = await outbox.emit(
                session=session,
                signals=ctx.signals,
                instance=state_notifying(inst.id),
                type_webhook="stateInstanceChanged",
                fields={"stateInstance": state},
            )
            assert got is not None
            ids.append(got)
    return ids
