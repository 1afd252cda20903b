"""Fill a database fast: partners and many instances written straight through the storage layer.

HTTP would take minutes for 100,000 instances; bulk inserts on the same tables, with tokens
encrypted by the same cipher the server uses, take seconds and give the server identical rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, insert, text, update

from fleetgate.clock import DAY_MS, now_ms
from fleetgate.context import Context
from fleetgate.domain.config import DELAY_DEFAULT_MS
from fleetgate.ids import INSTANCE_SUFFIX_SPACE, new_instance_token
from fleetgate.services import partners
from fleetgate.services.instances import TYPE_WHATSAPP
from fleetgate.settings import Settings
from fleetgate.storage.search import search_key
from fleetgate.storage.tables import InstanceRow, PartnerRow

_CHUNK = 5_000
# Core inserts on the table skip the ORM's per-row bookkeeping (twice as fast here).
_INSTANCES: Table = InstanceRow.__table__  # type: ignore[assignment]
# One in this many seeded instances is deleted, so listings carry both shapes of row.
_DELETED_EVERY = 20


@dataclass(frozen=True, slots=True)
class SeededPartner:
    """A partner made for the benchmark, with its token and how many instances it owns."""

    name: str
    token: str
    instances: int


async def seed_partner(
    ctx: Context,
    *,
    name: str,
    instances: int,
    id_prefix: int,
    tariff: str = "PARTNER",
    deleted_every: int = _DELETED_EVERY,
    naming: Callable[[int], str] | None = None,
) -> SeededPartner:
    """Create a partner owning ``instances`` instances, ids ``id_prefix`` + 000000, 000001, ...

    One in ``deleted_every`` is deleted; ``naming`` names the i-th (default ``Instance <id>``).
    """
    if instances > INSTANCE_SUFFIX_SPACE:
        raise ValueError("more instances than one id prefix holds")
    async with ctx.db.transaction() as session:
        partner, token = await partners.create_partner(session=session, name=name)
    # Spread creation times over the last 90 days, as a partner's real history would be.
    start = now_ms() - 90 * DAY_MS
    step = max(1, 90 * DAY_MS // max(1, instances))
    for first in range(0, instances, _CHUNK):
        rows = []
        for i in range(first, min(first + _CHUNK, instances)):
            id_instance = id_prefix * INSTANCE_SUFFIX_SPACE + i
            created = start + i * step
            deleted = created + 3_600_000 if id_instance % deleted_every == 0 else None
            rows.append(
                instance_row(
                    ctx,
                    partner_id=partner.id,
                    id_instance=id_instance,
                    token=new_instance_token(),
                    created=created,
                    deleted=deleted,
                    tariff=tariff,
                    seq=i + 1,
                    name=naming(i) if naming else None,
                )
            )
        async with ctx.db.transaction() as session:
            await session.execute(insert(_INSTANCES), rows)
    live = instances - sum(
        1 for i in range(instances) if (id_prefix * INSTANCE_SUFFIX_SPACE + i) % deleted_every == 0
    )
    async with ctx.db.transaction() as session:
        await session.execute(
            update(PartnerRow)
            .where(PartnerRow.id == partner.id)
            .values(instance_seq=instances, live_instances=live)
        )
    return SeededPartner(name=name, token=token, instances=instances)


def instance_row(
    ctx: Context,
    *,
    partner_id: int,
    id_instance: int,
    token: str,
    created: int,
    deleted: int | None = None,
    tariff: str = "PARTNER",
    seq: int = 0,
    name: str | None = None,
) -> dict[str, Any]:
    """The ``instances`` columns of one instance as createInstance would have written them."""
    name = name or f"Instance {id_instance}"
    return {
        "id_instance": id_instance,
        "partner_id": partner_id,
        "name": name,
        "search_key": search_key(name, id_instance),
        "seq": seq,
        "type_instance": TYPE_WHATSAPP,
        "engine": "sandbox",
        "token_cipher": ctx.cipher.encrypt(token, id_instance=id_instance),
        "token_digest": ctx.cipher.digest(token),
        "tariff": tariff,
        "created_ms": created,
        "deleted_ms": deleted,
        "expires_ms": None,
        "delay_send_ms": DELAY_DEFAULT_MS,
    }


@dataclass(frozen=True, slots=True)
class Seeded:
    """Everything a run seeded: one partner per listing size, one for createInstance."""

    by_size: dict[int, SeededPartner]
    creator: SeededPartner
    seconds: float


async def seed_database(settings: Settings, sizes: list[int]) -> Seeded:
    """Migrate the database and seed one partner per listing size plus an empty creator."""
    began = time.perf_counter()
    ctx = Context.from_settings(settings)
    try:
        await ctx.db.migrate()
        by_size: dict[int, SeededPartner] = {}
        # Listing partners use their own shard prefixes, so createInstance's random ids (under
        # the server's default prefix) never collide with seeded ones.
        for offset, size in enumerate(sorted(sizes), start=1):
            prefix = settings.instances.id_prefix + offset
            by_size[size] = await seed_partner(
                ctx, name=f"bench-list-{size}", instances=size, id_prefix=prefix
            )
        creator = await seed_partner(ctx, name="bench-create", instances=0, id_prefix=1000)
        await settle(ctx)
    finally:
        await ctx.db.dispose()
    return Seeded(by_size=by_size, creator=creator, seconds=time.perf_counter() - began)


async def settle(ctx: Context) -> None:
    """Leave the database as a long-running one would be: statistics fresh, nothing pending.

    Without this, PostgreSQL's autovacuum wakes up for the fresh rows in the middle of a
    measurement (stealing one of the two cores), and both planners see stale statistics.
    """
    if ctx.db.is_sqlite:
        # Closing the last connection afterwards (dispose) also checkpoints the WAL.
        async with ctx.db.transaction() as session:
            await session.execute(text("ANALYZE"))
        return
    async with ctx.db.engine.connect() as conn:
        conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
        await conn.execute(text("VACUUM ANALYZE"))
