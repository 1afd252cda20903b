"""The real library behind `fleetgate serve`, with the network cut (every dial goes to a
closed loopback proxy, so the test means the same on a machine with internet): an instance on
the whatsapp engine runs its neonize session in a worker up to the network edge and shows a
clear state and clear errors, on both databases, with no crash and no traceback."""

from __future__ import annotations

import json
import os
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.processes import Cli, Served
from tests.support import until

# Every WhatsApp dial goes through this proxy, and nothing listens on port 9.
CUT = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}


@pytest.fixture
def partner_token(cli: Cli) -> str:
    out = cli.ok("partner", "create", "real", "--engine", "whatsapp", "--json")
    return str(json.loads(out)["partnerToken"])


@pytest.fixture
def served(cli: Cli, partner_token: str) -> Iterator[Served]:
    env = CUT | {"FLEETGATE_RATELIMITS__ENABLED": "false", "NO_PROXY": "127.0.0.1,localhost"}
    with cli.serve(**env) as srv:
        yield srv


async def test_offline_an_instance_shows_a_clear_state_and_errors(
    cli: Cli, served: Served, partner_token: str
) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=30) as http:
        made = (await http.post(f"/partner/createInstance/{partner_token}", json={})).json()
        id_instance, token = made["idInstance"], made["apiTokenInstance"]
        green = f"/waInstance{id_instance}"

        async def state_is(wanted: str) -> bool:
            r = await http.get(f"{green}/getStateInstance/{token}")
            return bool(r.json()["stateInstance"] == wanted)

        await until(lambda: state_is("notAuthorized"), "the unlinked device's state")
        worker_out = cli.data_dir / "whatsapp" / "workers" / "worker-1.out"
        await until(lambda: _has(worker_out), "the worker started")

        qr = await http.get(f"{green}/qr/{token}")
        assert qr.status_code == 200, qr.text
        assert qr.json() == {"type": "error", "message": "instance in starting process try later"}
        zapi = f"/instances/{id_instance}/token/{token}"
        status = (await http.get(f"{zapi}/status")).json()
        assert status["connected"] is False
        code = await http.post(
            f"{green}/getAuthorizationCode/{token}", json={"phoneNumber": 4917612345678}
        )
        assert (code.status_code, code.json()) == (
            400,
            {"code": 400, "description": "instance in starting process try later"},
        )
        assert status["error"] == "You are not connected."

        # Sends are kept for when the account is linked, not lost.
        sent = await http.post(
            f"{green}/sendMessage/{token}", json={"chatId": "4917600000000@c.us", "message": "x"}
        )
        assert sent.status_code == 200, sent.text
        count = await http.get(f"{green}/getMessagesCount/{token}")
        assert count.json()["count"] == 1
        assert await state_is("notAuthorized")

        # The library's process dies (as on a Go fatal error): a new worker takes the session
        # up again and the instance answers as before.
        [first] = _worker_pids(served)
        os.kill(first, signal.SIGKILL)
        await until(lambda: _restarted(served, first), "a new worker", timeout=30)
        await until(lambda: _offline_reports(served, id_instance, 2), "the session reopened")
        again = await http.get(f"{green}/qr/{token}")
        assert again.json() == {
            "type": "error",
            "message": "instance in starting process try later",
        }
        assert await state_is("notAuthorized")

    assert served.proc.poll() is None, "the server is still up"
    log = served.stderr()
    # The reason, once per spell offline, in the server's log: what WhatsApp's dial ran into.
    offline = [line for line in log.splitlines() if f"instance {id_instance} is offline" in line]
    assert len(offline) == 2 and all("connection refused" in line for line in offline), log
    assert "Traceback" not in log, log
    output = worker_out.read_text(errors="replace")
    assert "panic" not in output and "fatal error" not in output, output
    assert json.loads(cli.ok("instance", "show", str(id_instance)))["engine"] == "whatsapp"


async def _has(path: Path) -> bool:
    return path.exists()


def _worker_pids(served: Served) -> list[int]:
    return [
        int(pid) for pid in re.findall(r"whatsapp worker 1 started \(pid (\d+)\)", served.stderr())
    ]


async def _restarted(served: Served, first: int) -> bool:
    return any(pid != first for pid in _worker_pids(served))


async def _offline_reports(served: Served, id_instance: int, count: int) -> bool:
    return served.stderr().count(f"instance {id_instance} is offline") >= count
