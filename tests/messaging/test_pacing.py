"""The send queue: 20 messages at the minimum pace of 500 ms go out in order, at that pace,
none lost or doubled although the server is killed (SIGKILL) in the middle."""

from __future__ import annotations

import asyncio
import itertools
import signal
import time
from pathlib import Path

import httpx
import pytest

from tests.processes import Cli, base_env
from tests.support import BACKENDS, Instance, authorize, fresh_database, until

COUNT = 20
SENDER = "79000000300"
RECIPIENT = "79000000400"


async def _inbox(url: str, partner: str) -> list[dict[str, object]]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        r = await client.get(
            f"/sandbox/phones/{RECIPIENT}/messages",
            headers={"Authorization": f"Bearer {partner}"},
        )
        got: list[dict[str, object]] = r.json()["messages"]
        return got


async def _wait_inbox(
    url: str, partner: str, count: int, timeout: float
) -> list[dict[str, object]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = await _inbox(url, partner)
        if len(got) >= count:
            return got
        await asyncio.sleep(0.1)
    raise AssertionError(f"{len(await _inbox(url, partner))} of {count} messages arrived")


@pytest.mark.parametrize("backend", BACKENDS)
async def test_queue_keeps_order_and_pace_across_a_crash(backend: str, tmp_path: Path) -> None:
    async with fresh_database(backend, tmp_path) as url:
        data_dir = tmp_path / "data"
        env = base_env(data_dir, url) | {"FLEETGATE_RUNNER__LEASE_TTL_S": "2"}
        cli = Cli(backend, data_dir, env)
        partner = cli.create("pace")
        started = time.monotonic()
        with cli.serve("before") as first:
            async with httpx.AsyncClient(base_url=first.url, timeout=30) as client:
                body = {"delaySendMessagesMilliseconds": 500}
                r = await client.post(f"/partner/createInstance/{partner}", json=body)
                made = r.json()
                inst = Instance(made["idInstance"], made["apiTokenInstance"], partner)
                await authorize(client, inst, SENDER)
                started = time.monotonic()
                for n in range(COUNT):
                    r = await client.post(
                        inst.url("sendMessage"),
                        json={"chatId": f"{RECIPIENT}@c.us", "message": f"m{n:02}"},
                    )
                    assert r.status_code == 200, r.text
            before_kill = await _wait_inbox(first.url, partner, 6, timeout=20)
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(timeout=10)
        assert len(before_kill) < COUNT, "all were sent before the kill; nothing was tested"

        with cli.serve("after") as second:
            await _wait_inbox(second.url, partner, COUNT, timeout=40)
            # A marker queued last: a repeat of any earlier message would be sent before it.
            async with httpx.AsyncClient(base_url=second.url, timeout=30) as client:
                r = await client.post(
                    inst.url("sendMessage"), json={"chatId": f"{RECIPIENT}@c.us", "message": "end"}
                )
                assert r.status_code == 200, r.text

            async def marker_arrived() -> bool:
                return any(m["text"] == "end" for m in await _inbox(second.url, partner))

            await until(marker_arrived, "the marker message arrived", timeout=40)
            took = time.monotonic() - started
            *got, marker = await _inbox(second.url, partner)
        assert marker["text"] == "end", marker

    assert [m["text"] for m in got] == [f"m{n:02}" for n in range(COUNT)]
    assert len({m["idMessage"] for m in got}) == COUNT
    assert took >= 9.5
    stamps = [int(str(m["timestampMs"])) for m in got]
    gaps = [b - a for a, b in itertools.pairwise(stamps)]
    assert min(gaps) >= 495, gaps  # the pace holds, across the restart too
