"""SIGKILL the server in the middle of a burst of 1,000 notifications: after a restart every
one reaches the receiver (duplicates allowed, none lost) in per-instance order."""

from __future__ import annotations

import asyncio
import signal
import time
from collections import defaultdict
from pathlib import Path

import httpx
import pytest

from fleetgate.context import Context
from tests.factories import emit_seqs
from tests.processes import Cli, base_env
from tests.receiver import Receiver, running_receiver
from tests.support import BACKENDS, fresh_database, make_settings

INSTANCES = 5
PER_INSTANCE = 200
TOTAL = INSTANCES * PER_INSTANCE


@pytest.mark.parametrize("backend", BACKENDS)
async def test_no_notification_is_lost_when_the_server_is_killed(
    backend: str, tmp_path: Path
) -> None:
    async with fresh_database(backend, tmp_path) as url:
        data_dir = tmp_path / "data"
        env = base_env(data_dir, url) | {
            "FLEETGATE_DELIVERY__POLL_S": "0.2",
            "FLEETGATE_DELIVERY__PAUSE_S": "0.2",
            "FLEETGATE_DELIVERY__TIMEOUT_S": "5",
            "FLEETGATE_DELIVERY__CLAIM_HOLD_S": "2",
            "FLEETGATE_RUNNER__LEASE_TTL_S": "2",
        }
        cli = Cli(backend, data_dir, env)
        partner = cli.create("crash")
        with running_receiver() as receiver:
            # Slow enough that the burst is still going out when the server dies.
            receiver.behave("crash", delay_s=0.004)
            with cli.serve("before") as first:
                ids = await _hooked(first.url, partner, receiver)
                ctx = Context.from_settings(make_settings(data_dir, url))
                try:
                    await _burst(ctx, ids)
                finally:
                    await ctx.db.dispose()
                await receiver.wait_for("crash", TOTAL // 5, timeout=30)
                first.proc.send_signal(signal.SIGKILL)
                first.proc.wait(timeout=10)
            at_kill = len(receiver.of("crash"))
            assert at_kill < TOTAL, "the burst was over before the kill; the test proves nothing"

            with cli.serve("after"):
                await _wait_all_distinct(receiver, timeout=60)
        _check_order(receiver, ids)


async def _hooked(url: str, partner: str, receiver: Receiver) -> list[int]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        ids = []
        for _ in range(INSTANCES):
            r = await client.post(
                f"/partner/createInstance/{partner}", json={"webhookUrl": receiver.hook("crash")}
            )
            ids.append(r.json()["idInstance"])
    return ids


async def _burst(ctx: Context, ids: list[int]) -> None:
    """Queue 1,000 notifications in transactions of 100, interleaving the instances."""
    pending = [(i, seq) for seq in range(PER_INSTANCE) for i in ids]
    for start in range(0, len(pending), 100):
        await emit_seqs(ctx, pending[start : start + 100])


def _keys(receiver: Receiver) -> set[tuple[int, int]]:
    return {(r.body["instanceData"]["idInstance"], r.body["seq"]) for r in receiver.of("crash")}


async def _wait_all_distinct(receiver: Receiver, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if len(_keys(receiver)) == TOTAL:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(_keys(receiver))} of {TOTAL} notifications arrived")


def _check_order(receiver: Receiver, ids: list[int]) -> None:
    """Per instance, a notification arrives only after every earlier one has arrived."""
    seen: dict[int, list[int]] = defaultdict(list)
    for r in receiver.of("crash"):
        seen[r.body["instanceData"]["idInstance"]].append(r.body["seq"])
    for id_instance in ids:
        arrivals = seen[id_instance]
        highest = -1
        for seq in arrivals:
            # A re-sent notification may repeat an earlier one, never skip ahead.
            assert seq <= highest + 1, f"instance {id_instance}: {seq} after {highest}"
            highest = max(highest, seq)
        assert highest == PER_INSTANCE - 1
