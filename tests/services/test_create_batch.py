"""Group commit of creates: many creates in one transaction, sequence numbers in order."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest
from sqlalchemy import event, select

from fleetgate.context import Context
from fleetgate.domain.config import ConfigPatch
from fleetgate.domain.instances import NewInstance
from fleetgate.domain.partners import Partner
from fleetgate.errors import NotAuthenticated
from fleetgate.services import partners
from fleetgate.services.create_batch import CreateBatcher
from fleetgate.services.instances import instance_order
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.tables import InstanceRow
from tests.factories import new_partner, running_context
from tests.support import make_settings


@pytest.fixture
async def ctx(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
    async with running_context(make_settings(tmp_path, fresh_database_url)) as context:
        yield context


def create(
    ctx: Context, batcher: CreateBatcher, partner: Partner, name: str
) -> Awaitable[NewInstance]:
    order = instance_order(
        partner=partner, provisioning=ctx.provisioning, patch=ConfigPatch(name=name)
    )
    return batcher.create(order)


async def stored(ctx: Context, partner: Partner) -> list[tuple[int, str, int]]:
    """(seq, name, idInstance) of the partner's instances, by sequence number."""
    async with ctx.db.reading() as session:
        rows = await session.execute(
            select(InstanceRow.seq, InstanceRow.name, InstanceRow.id_instance)
            .where(InstanceRow.partner_id == partner.id)
            .order_by(InstanceRow.seq)
        )
        return [(seq, name, id_instance) for seq, name, id_instance in rows]


async def test_concurrent_creates_share_one_commit_and_number_in_order(ctx: Context) -> None:
    owners = [await new_partner(ctx), await new_partner(ctx)]
    batcher = CreateBatcher(ctx.db, ctx.signals, ctx.cipher)
    commits = 0

    def count(*_args: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(ctx.db.engine.sync_engine, "commit", count)
    made = await asyncio.gather(*(create(ctx, batcher, owners[n % 2], f"c{n}") for n in range(300)))
    event.remove(ctx.db.engine.sync_engine, "commit", count)
    # 300 requests at once are a single batch: one commit.
    assert commits == 1, commits
    assert len({m.id_instance for m in made}) == 300
    assert len({m.api_token for m in made}) == 300
    for parity, owner in enumerate(owners):
        rows = await stored(ctx, owner)
        # Each partner's numbers are 1..150, handed out in the order the requests came.
        assert [seq for seq, _, _ in rows] == list(range(1, 151))
        assert [name for _, name, _ in rows] == [f"c{n}" for n in range(parity, 300, 2)]
        assert [i for _, _, i in rows] == [m.id_instance for m in made[parity::2]]


async def test_a_failing_create_fails_only_its_own_request(ctx: Context) -> None:
    owner, gone = await new_partner(ctx), await new_partner(ctx)
    async with ctx.db.transaction() as session:
        await partners.revoke_partner(session=session, name=gone.name)
    batcher = CreateBatcher(ctx.db, ctx.signals, ctx.cipher)
    answers = await asyncio.gather(
        *(create(ctx, batcher, gone if n == 5 else owner, f"c{n}") for n in range(10)),
        return_exceptions=True,
    )
    # Its partner was revoked after its token was checked: that create alone is refused.
    assert isinstance(answers[5], NotAuthenticated)
    assert all(isinstance(a, NewInstance) for n, a in enumerate(answers) if n != 5)
    rows = await stored(ctx, owner)
    assert [seq for seq, _, _ in rows] == list(range(1, 10))
    assert [name for _, name, _ in rows] == [f"c{n}" for n in range(10) if n != 5]
    assert await stored(ctx, gone) == []


async def test_a_taken_id_is_skipped_not_failed(ctx: Context) -> None:
    owner = await new_partner(ctx)
    batcher = CreateBatcher(ctx.db, ctx.signals, ctx.cipher)
    first = await create(ctx, batcher, owner, "first")
    async with ctx.db.transaction() as session:
        row = await session.get(InstanceRow, first.id_instance)
        assert row is not None
        again = {c.key: getattr(row, c.key) for c in InstanceRow.__table__.columns}
        # The same id again (as a random draw may give): not inserted, and no error.
        assert await repo.insert_new(session, [again | {"token_digest": "other"}]) == set()
