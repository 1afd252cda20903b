"""Two delivery workers on one PostgreSQL: every notification once, never twice at a time."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fleetgate.context import Context, webhook_client
from fleetgate.domain.config import ConfigPatch
from fleetgate.settings import DeliverySettings
from tests.factories import create_instances, emit_seqs, running_context
from tests.receiver import Receiver, running_receiver
from tests.support import fresh_database, make_settings

INSTANCES = 10
PER_INSTANCE = 40


@pytest.fixture
async def pg_ctx(tmp_path: Path) -> AsyncIterator[Context]:
    async with fresh_database("postgres", tmp_path) as url:
        # Few deliveries in flight per worker: a worker with room to spare takes every head
        # it frees itself (in the same commit), so only a busy worker leaves work to another.
        delivery = DeliverySettings(timeout_s=5, pause_s=0.1, poll_s=0.1, concurrency=4)
        settings = make_settings(tmp_path / "data", url, delivery=delivery)
        async with running_context(settings) as ctx:
            yield ctx


async def test_two_workers_share_the_outbox_without_double_delivery(pg_ctx: Context) -> None:
    ctx = pg_ctx
    with running_receiver() as receiver:
        # A little latency makes overlapping claims likely if the claiming were wrong.
        receiver.behave("w", delay_s=0.01)
        ids = await _hooked_instances(ctx, receiver)
        async with webhook_client(64) as http:
            workers = [ctx.new_delivery_worker(http) for _ in range(2)]
            for worker in workers:
                await worker.start()
            try:
                await emit_seqs(ctx, [(i, seq) for seq in range(PER_INSTANCE) for i in ids])
                got = await receiver.wait_for("w", INSTANCES * PER_INSTANCE, timeout=60)
            finally:
                for worker in workers:
                    await worker.stop()
        await receiver.wait_idle()  # a duplicate still being answered is counted too
        assert len(receiver.of("w", ok_only=False)) == INSTANCES * PER_INSTANCE, "a duplicate"
        assert max(receiver.max_inflight.values()) == 1
        by_instance: dict[int, list[int]] = defaultdict(list)
        for r in got:
            by_instance[r.body["instanceData"]["idInstance"]].append(r.body["seq"])
        assert by_instance == {i: list(range(PER_INSTANCE)) for i in ids}
        assert all(w.delivered > 0 for w in workers), [w.delivered for w in workers]


async def _hooked_instances(ctx: Context, receiver: Receiver) -> list[int]:
    return await create_instances(ctx, INSTANCES, patch=ConfigPatch(webhook_url=receiver.hook("w")))
