"""`fleetgate serve` with every logger at DEBUG never writes a token to stdout or stderr.

The server is driven through successes and failures of every credential it knows: partner
tokens in paths and Bearer headers, instance tokens in GREEN-API and Z-API paths, the account
Client-Token, a rotated instance token, webhook deliveries that carry webhookUrlToken (one
receiver answering 200, one 500), 4xx answers, the 429 of a locked-out client and, on
PostgreSQL, 503s while the database refuses connections.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import httpx
from sqlalchemy.engine import make_url

from tests.processes import Cli
from tests.receiver import Receiver, running_receiver
from tests.support import postgres_url

# The console script, with the root logger at DEBUG from the first import on (and kept there by
# FLEETGATE_LOG_LEVEL=DEBUG when serve configures logging), so every library's debug output is
# written too.
_LAUNCH = (
    "import logging, sys\n"
    "logging.basicConfig(level=logging.DEBUG, format='%(levelname)s %(name)s %(message)s')\n"
    "from fleetgate.cli.main import main\n"
    "sys.argv = ['fleetgate', *sys.argv[1:]]\n"
    "main()\n"
)
DEADLINE_S = 20.0


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    out: Path
    err: Path

    def logs(self) -> str:
        return self.out.read_text(errors="replace") + self.err.read_text(errors="replace")


@contextmanager
def debug_server(cli: Cli) -> Iterator[Server]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = cli.env | {
        "FLEETGATE_HTTP__PORT": str(port),
        "FLEETGATE_DELIVERY__POLL_S": "0.2",
        "FLEETGATE_DELIVERY__PAUSE_S": "0.2",
        "FLEETGATE_RATELIMITS__ENABLED": "false",
        "FLEETGATE_LOG_LEVEL": "DEBUG",
    }
    folder = cli.data_dir.parent
    out, err = folder / "out.log", folder / "err.log"
    with out.open("wb") as out_f, err.open("wb") as err_f:
        proc = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, "serve"],
            env=env,
            cwd=folder,
            stdin=subprocess.DEVNULL,
            stdout=out_f,
            stderr=err_f,
        )
    server = Server(f"http://127.0.0.1:{port}", proc, out, err)
    try:
        _poll(lambda: _answers(server), "the server never answered /health", server)
        yield server
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _answers(server: Server) -> bool:
    if server.proc.poll() is not None:
        raise AssertionError(f"serve exited early:\n{server.logs()}")
    try:
        return httpx.get(server.url + "/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def _poll(done: Callable[[], bool], why: str, server: Server) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"{why}\n{server.logs()[-4000:]}")
        time.sleep(0.05)


def test_no_token_is_ever_logged(cli: Cli) -> None:
    partner = cli.create("logs")
    secrets_used: dict[str, str] = {"partner": partner}
    with running_receiver() as receiver, debug_server(cli) as server:
        http = httpx.Client(base_url=server.url, timeout=15)
        _drive(http, receiver, partner, secrets_used, server)
        if cli.backend == "postgres":
            _outage(http, cli, secrets_used, server)
        _lock_out(http, secrets_used)
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(timeout=15)
    logs = server.logs()
    # The run really logged at DEBUG, and the failure paths were taken.
    assert "DEBUG " in logs, logs[-2000:]
    assert "webhook delivery of notification" in logs, logs[-4000:]
    leaked = {name: value for name, value in secrets_used.items() if value in logs}
    assert not leaked, f"tokens in the logs: {sorted(leaked)}"


def _drive(
    http: httpx.Client, receiver: Receiver, partner: str, used: dict[str, str], server: Server
) -> None:
    receiver.behave("bad", fail_first=1_000, fail_status=500)
    used |= {
        "webhookUrlToken": "whk-" + secrets.token_hex(16),
        "webhookUrlToken failing": "whk-" + secrets.token_hex(16),
        "wrong partner": "gac." + secrets.token_hex(24),
        "wrong instance": secrets.token_hex(25),
        "wrong client": secrets.token_hex(16),
    }
    ok, tok = _create(http, partner, receiver.hook("ok"), used["webhookUrlToken"])
    bad, bad_tok = _create(http, partner, receiver.hook("bad"), used["webhookUrlToken failing"])
    used |= {"instance": tok, "instance failing": bad_tok}
    bearer = {"Authorization": f"Bearer {partner}"}
    expect = [
        (http.get(f"/partner/getInstances/{partner}"), 200),
        (http.get(f"/partner/getInstances/{used['wrong partner']}"), 200),  # 401 in the body
        (http.get(f"/waInstance{ok}/getStateInstance/{tok}"), 200),
        (http.get(f"/waInstance{ok}/getStateInstance/{used['wrong instance']}"), 401),
        (http.get(f"/waInstance9999000001/getStateInstance/{tok}"), 403),
        (http.post(f"/waInstance{ok}/setSettings/{tok}", content=b"{not json"), 400),
        (http.post(f"/waInstance{ok}/setSettings/{tok}", content=b" " * 2_000_000), 413),
        (http.get(f"/instances/{ok}/token/{tok}/status"), 200),
        (http.get(f"/instances/{ok}/token/{used['wrong instance']}/status"), 404),
        (http.get("/instances?page=1&pageSize=5", headers=bearer), 200),
        (http.get("/instances?page=1&pageSize=5", headers=_bearer(used["wrong partner"])), 401),
    ]
    for response, status in expect:
        assert response.status_code == status, (response.request.url, response.text)
    client_token = http.post("/admin/client-token", headers=bearer).json()["clientToken"]
    used["client"] = client_token
    for header, status in ((client_token, 200), (used["wrong client"], 403)):
        r = http.get(f"/instances/{ok}/token/{tok}/status", headers={"Client-Token": header})
        assert r.status_code == status, r.text
    used["rotated instance"] = http.get(f"/waInstance{ok}/updateApiToken/{tok}").json()[
        "apiTokenInstance"
    ]
    assert http.get(f"/waInstance{ok}/getStateInstance/{used['rotated instance']}").is_success
    for id_instance, phone in ((ok, "79000000001"), (bad, "79000000002")):
        _link(http, partner, id_instance, phone)
    _poll(lambda: bool(receiver.of("ok")), "no webhook delivered", server)
    assert receiver.of("ok")[0].headers["authorization"] == f"Bearer {used['webhookUrlToken']}"
    _poll(lambda: len(receiver.of("bad", ok_only=False)) >= 2, "no failed delivery", server)


def _create(http: httpx.Client, partner: str, hook: str, hook_token: str) -> tuple[int, str]:
    body = {"webhookUrl": hook, "webhookUrlToken": hook_token, "stateWebhook": "yes"}
    r = http.post(f"/partner/createInstance/{partner}", json=body)
    assert r.status_code == 200, r.text
    return r.json()["idInstance"], r.json()["apiTokenInstance"]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _link(http: httpx.Client, partner: str, id_instance: int, phone: str) -> None:
    """Scan the instance's QR with a sandbox phone (its state changes send webhooks)."""
    deadline = time.monotonic() + DEADLINE_S
    while True:
        qr = http.get(f"/sandbox/instances/{id_instance}/qr", headers=_bearer(partner))
        if qr.status_code == 200 and qr.json().get("qr"):
            break
        assert time.monotonic() < deadline, qr.text
        time.sleep(0.1)
    r = http.post(
        f"/sandbox/phones/{phone}/scan", json={"qr": qr.json()["qr"]}, headers=_bearer(partner)
    )
    assert r.status_code == 200, r.text


def _lock_out(http: httpx.Client, used: dict[str, str]) -> None:
    """Fail until this client is refused: 429s, and a correct token refused too."""
    statuses = [
        http.get(f"/waInstance1101000001/getStateInstance/{used['wrong instance']}").status_code
        for _ in range(40)
    ]
    assert 429 in statuses, statuses
    locked = http.get(f"/partner/getInstances/{used['partner']}")
    assert locked.status_code == 429, locked.text


def _outage(http: httpx.Client, cli: Cli, used: dict[str, str], server: Server) -> None:
    """PostgreSQL refuses connections for a moment: requests with tokens get 503s."""
    database = make_url(cli.env["FLEETGATE_DATABASE_URL"]).database
    assert database
    asyncio.run(_allow_connections(database, allow=False))
    try:
        statuses = [
            _status(http, f"/partner/getInstances/{used['partner']}"),
            _status(http, "/instances?page=1&pageSize=5", _bearer(used["partner"])),
            _status(http, f"/waInstance1101000002/getStateInstance/{used['instance']}"),
            _status(http, "/admin/dead-letters", _bearer(used["partner"])),
        ]
        # 503, or a 500 whose traceback is logged: either way a 5xx path that logs.
        assert all(code >= 500 for code in statuses), statuses
    finally:
        asyncio.run(_allow_connections(database, allow=True))
    _poll(lambda: _answers(server), "the server did not recover", server)


def _status(http: httpx.Client, path: str, headers: dict[str, str] | None = None) -> int:
    """The status of a GET; 599 when the server cut the connection instead of answering."""
    try:
        return http.get(path, headers=headers).status_code
    except httpx.TransportError:
        return 599


async def _allow_connections(database: str, *, allow: bool) -> None:
    admin = make_url(postgres_url())
    conn = await asyncpg.connect(
        host=admin.host, port=admin.port, user=admin.username, database=admin.database
    )
    try:
        await conn.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS {str(allow).lower()}')
        if not allow:
            await conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                database,
            )
    finally:
        await conn.close()
