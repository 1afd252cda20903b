"""Two `fleetgate serve` processes on one PostgreSQL: SIGKILL one, the other takes over."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from fleetgate.storage.db import Database
from fleetgate.storage.tables import InstanceRow
from tests.processes import Cli, base_env
from tests.support import Instance, authorize, fresh_database, wait_for_state

LEASE_S = 2.0


async def _owners(db: Database) -> dict[int, str | None]:
    async with db.reading() as session:
        rows = await session.execute(select(InstanceRow.id_instance, InstanceRow.runner_id))
        return {r.id_instance: r.runner_id for r in rows}


def _pid_of(runner_id: str | None) -> int | None:
    return int(runner_id.split(":")[1]) if runner_id else None


async def _wait_owned_by(db: Database, ids: list[int], pid: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        owners = await _owners(db)
        if all(_pid_of(owners[i]) == pid for i in ids):
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not all owned by pid {pid}: {await _owners(db)}")


async def test_sigkilled_runner_is_taken_over_by_the_other_process(tmp_path: Path) -> None:
    async with fresh_database("postgres", tmp_path) as url:
        data_dir = tmp_path / "data"
        env = base_env(data_dir, url) | {
            "FLEETGATE_RUNNER__TICK_S": "0.2",
            "FLEETGATE_RUNNER__LEASE_TTL_S": str(LEASE_S),
        }
        cli = Cli("postgres", data_dir, env)
        partner_token = cli.create("fleet")
        db = Database(url)
        try:
            with cli.serve("a") as a, cli.serve("b") as b:
                async with httpx.AsyncClient(base_url=a.url, timeout=30) as via_a:
                    made = []
                    for _ in range(6):
                        r = await via_a.post(f"/partner/createInstance/{partner_token}", json={})
                        body = r.json()
                        made.append(
                            Instance(body["idInstance"], body["apiTokenInstance"], partner_token)
                        )
                    await authorize(via_a, made[0], "79002220000")
                ids = [m.id for m in made]

                owners = await _owners(db)
                pids = {_pid_of(owners[i]) for i in ids}
                assert pids <= {a.proc.pid, b.proc.pid} and None not in pids
                victim, heir = (a, b) if a.proc.pid in pids else (b, a)

                killed_at = time.monotonic()
                victim.proc.send_signal(signal.SIGKILL)
                victim.proc.wait(timeout=10)
                await _wait_owned_by(db, ids, heir.proc.pid, timeout=LEASE_S + 10)
                took = time.monotonic() - killed_at

                async with httpx.AsyncClient(base_url=heir.url, timeout=30) as via_heir:
                    await wait_for_state(via_heir, made[0], "authorized")
                    for inst in made[1:]:
                        await wait_for_state(via_heir, inst, "notAuthorized")
                        # The QR comes from a session the heir runs now.
                        qr = (await via_heir.get(inst.url("qr"))).json()
                        assert qr["type"] == "qrCode", qr
                assert took < LEASE_S + 10
        finally:
            await db.dispose()
