"""Instances seeded for the instance-API workloads, with their tokens kept for the driver.

Like ``bench.seed``, the rows go in through bulk inserts on the storage layer's tables,
with tokens encrypted by the server's own cipher. An *authorized* instance is written the way
the sandbox engine and the runner leave a linked one: ``state`` authorized, ``wid``, the
engine credentials ``{"phone": ...}``, a ``sandbox_links`` row and a ``sandbox_phones`` row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Table, insert

from bench.seed import instance_row, settle
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.ids import INSTANCE_SUFFIX_SPACE, new_instance_token
from fleetgate.services import partners
from fleetgate.settings import Settings
from fleetgate.storage.tables import InstanceRow, SandboxLinkRow, SandboxPhoneRow

_CHUNK = 2_000
_INSTANCES: Table = InstanceRow.__table__  # type: ignore[assignment]
_LINKS: Table = SandboxLinkRow.__table__  # type: ignore[assignment]
_PHONES: Table = SandboxPhoneRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class SeededInstance:
    """One instance the driver can call: its id, its token and (if linked) its phone."""

    id_instance: int
    token: str
    phone: str = ""

    def path(self, method: str) -> str:
        """The GREEN-API instance URL path of ``method`` for this instance."""
        return f"/waInstance{self.id_instance}/{method}/{self.token}"


@dataclass(frozen=True, slots=True)
class InstanceSet:
    """What to seed for one workload: how many, under which id prefix, configured how."""

    name: str
    count: int
    id_prefix: int
    authorized: bool = False
    webhook_url: str = ""
    state_webhook: bool = False


def phone_of(id_instance: int) -> str:
    """The virtual phone a seeded authorized instance is linked to (12 digits)."""
    return f"79{id_instance % 10**10:010d}"


async def create_partner(ctx: Context, name: str) -> tuple[int, str]:
    """A new partner through the partner service: its id and token."""
    async with ctx.db.transaction() as session:
        partner, token = await partners.create_partner(session=session, name=name)
    return partner.id, token


async def seed_set(ctx: Context, partner_id: int, spec: InstanceSet) -> list[SeededInstance]:
    """Insert the instances of ``spec`` (ids ``id_prefix`` + 000000, 000001, ...)."""
    if spec.count > INSTANCE_SUFFIX_SPACE:
        raise ValueError("more instances than one id prefix holds")
    now = now_ms()
    seeded = [
        SeededInstance(
            id_instance=spec.id_prefix * INSTANCE_SUFFIX_SPACE + i,
            token=new_instance_token(),
            phone=phone_of(spec.id_prefix * INSTANCE_SUFFIX_SPACE + i) if spec.authorized else "",
        )
        for i in range(spec.count)
    ]
    for first in range(0, len(seeded), _CHUNK):
        chunk = seeded[first : first + _CHUNK]
        rows = [_row(ctx, partner_id, s, spec, now) for s in chunk]
        async with ctx.db.transaction() as session:
            await session.execute(insert(_INSTANCES), rows)
            if spec.authorized:
                await session.execute(
                    insert(_PHONES), [{"phone": s.phone, "created_ms": now} for s in chunk]
                )
                await session.execute(
                    insert(_LINKS),
                    [
                        {"id_instance": s.id_instance, "phone": s.phone, "linked_ms": now}
                        for s in chunk
                    ],
                )
    return seeded


def _row(
    ctx: Context, partner_id: int, seeded: SeededInstance, spec: InstanceSet, now: int
) -> dict[str, Any]:
    row = instance_row(
        ctx,
        partner_id=partner_id,
        id_instance=seeded.id_instance,
        token=seeded.token,
        created=now,
    )
    row |= {"webhook_url": spec.webhook_url, "state_webhook": spec.state_webhook}
    if spec.authorized:
        row |= {
            "state": "authorized",
            "wid": f"{seeded.phone}@c.us",
            "engine_auth": orjson.dumps({"phone": seeded.phone}).decode(),
        }
    return row


async def seed_sets(
    settings: Settings, partner: str, specs: Sequence[InstanceSet]
) -> dict[str, list[SeededInstance]]:
    """Seed every set for one new partner (the database is migrated already)."""
    ctx = Context.from_settings(settings)
    try:
        partner_id, _token = await create_partner(ctx, partner)
        out = {spec.name: await seed_set(ctx, partner_id, spec) for spec in specs}
        await settle(ctx)
    finally:
        await ctx.db.dispose()
    return out
