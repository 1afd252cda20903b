"""`fleetgate delivery` as its own process, and `fleetgate dead-letters` list and replay."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fleetgate.delivery.worker import NON_PUBLIC_FAILURE
from tests.processes import Cli, base_env
from tests.receiver import running_receiver
from tests.support import BACKENDS, fresh_database

FAST = {
    "FLEETGATE_DELIVERY__POLL_S": "0.2",
    "FLEETGATE_DELIVERY__PAUSE_S": "0.2",
    "FLEETGATE_DELIVERY__GIVE_UP_AFTER_S": "1",
    "FLEETGATE_DELIVERY__TIMEOUT_S": "5",
}


@pytest.fixture(params=BACKENDS)
async def cli(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    async with fresh_database(request.param, tmp_path) as url:
        data_dir = tmp_path / "data"
        yield Cli(request.param, data_dir, base_env(data_dir, url) | FAST)


async def _instance_with_hook(url: str, partner: str, hook: str) -> tuple[int, str]:
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        body = {"webhookUrl": hook, "stateWebhook": "yes"}
        data = (await client.post(f"/partner/createInstance/{partner}", json=body)).json()
        return data["idInstance"], data["apiTokenInstance"]


async def test_delivery_command_delivers_for_an_api_only_server(cli: Cli) -> None:
    partner = cli.create("split")
    with running_receiver() as receiver, cli.serve(FLEETGATE_DELIVERY__ENABLED="false") as srv:
        id_instance, _ = await _instance_with_hook(srv.url, partner, receiver.hook("split"))
        # The instance's first state change is queued but nobody pushes it yet.
        with pytest.raises(AssertionError):
            await receiver.wait_for("split", 1, timeout=1.5)
        with cli.background("delivery", log_name="delivery") as worker:
            (got,) = await receiver.wait_for("split", 1, timeout=20)
            assert got.body["instanceData"]["idInstance"] == id_instance
            assert got.body["stateInstance"] == "notAuthorized"
            worker.send_signal(signal.SIGTERM)
            assert worker.wait(timeout=15) == 0


async def test_dead_letters_cli_lists_and_replays(cli: Cli) -> None:
    partner = cli.create("dead")
    with running_receiver() as receiver, cli.serve() as srv:
        receiver.behave("dead", fail_first=10_000)
        id_instance, _ = await _instance_with_hook(srv.url, partner, receiver.hook("dead"))
        await _wait_dead(cli, 1)
        (line,) = cli.ok("dead-letters", "list", "--instance", str(id_instance)).splitlines()
        dead = json.loads(line)
        assert dead["idInstance"] == id_instance
        assert dead["typeWebhook"] == "stateInstanceChanged"
        assert dead["lastError"] == NON_PUBLIC_FAILURE  # loopback: no detail for the partner
        assert dead["attempts"] >= 1

        receiver.behave("dead")
        out = cli.ok("dead-letters", "replay", str(dead["id"]))
        assert out.startswith("Replayed 1 of 1")
        (got,) = await receiver.wait_for("dead", 1, timeout=20)
        assert got.body == dead["body"]
        assert cli.ok("dead-letters", "list") == ""


async def _wait_dead(cli: Cli, count: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if len(cli.ok("dead-letters", "list").splitlines()) >= count:
            return
        await asyncio.sleep(0.3)
    raise AssertionError("no dead letter appeared")
