"""Group commit of the send queue: one transaction for many requests, nothing answered unstored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.services.send_batch import SendBatcher
from fleetgate.storage.repos import messages as repo
from tests.factories import create_instances
from tests.support import make_settings

TEXT = "textMessage"


@pytest.fixture
async def ctx(fresh_database_url: str, tmp_path: Path) -> AsyncIterator[Context]:
    context = Context.from_settings(make_settings(tmp_path, fresh_database_url))
    await context.db.migrate()
    yield context
    await context.db.dispose()


async def two_instances(ctx: Context) -> list[InstanceView]:
    views = []
    for id_instance in await create_instances(ctx, 2):
        found = await ctx.instance_cache.live(id_instance)
        assert found is not None
        views.append(found[0])
    return views


def text(n: int) -> dict[str, object]:
    return {"typeMessage": TEXT, "textMessageData": {"textMessage": str(n)}}


async def queued_texts(ctx: Context, id_instance: int) -> list[str]:
    async with ctx.db.reading() as session:
        queued = await repo.queued(session, id_instance, limit=10_000)
    return [m.data for m in queued]


async def test_concurrent_sends_share_commits_and_keep_their_order(ctx: Context) -> None:
    views = await two_instances(ctx)
    batcher = SendBatcher(ctx.db, ctx.signals)
    commits = 0

    def count(*_args: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(ctx.db.engine.sync_engine, "commit", count)
    ids = await asyncio.gather(
        *(batcher.enqueue(views[n % 2], "79990000001@c.us", text(n)) for n in range(400))
    )
    event.remove(ctx.db.engine.sync_engine, "commit", count)
    assert len(set(ids)) == 400
    # A commit per batch of whatever waited; 400 requests at once are a single batch.
    assert commits == 1, commits
    for parity, view in enumerate(views):
        stored = await queued_texts(ctx, view.id_instance)
        assert [s.count('"textMessage":"') for s in stored] == [1] * 200
        expected = [str(n) for n in range(parity, 400, 2)]
        assert [s.rsplit('"textMessage":"', 1)[1].split('"')[0] for s in stored] == expected


async def test_a_failing_message_fails_only_its_own_request(ctx: Context) -> None:
    views = await two_instances(ctx)
    batcher = SendBatcher(ctx.db, ctx.signals)
    # No such instance row: the foreign key refuses this one message.
    ghost = replace(views[0], id_instance=9_999_999_999)
    answers = await asyncio.gather(
        *(
            batcher.enqueue(ghost if n == 5 else views[0], "79990000001@c.us", text(n))
            for n in range(10)
        ),
        return_exceptions=True,
    )
    assert isinstance(answers[5], IntegrityError)
    assert all(isinstance(a, str) for n, a in enumerate(answers) if n != 5)
    assert len(await queued_texts(ctx, views[0].id_instance)) == 9
