"""The real `fleetgate` console script, run as subprocesses on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.support import (
    BACKENDS,
    create_pg_database,
    drop_pg_database,
    postgres_required,
    postgres_unavailable_reason,
)

UNAUTHORIZED = b'{"code":401,"description":"Unauthorized"}'
PARTNER_TOKEN = re.compile(r"gac\.[0-9a-f]{48}")
COMMAND_TIMEOUT = 60.0
START_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# Variables that would change how Rich lays out output, or fleetgate's own configuration.
_SCRUBBED = {"COLUMNS", "LINES", "FORCE_COLOR", "TTY_COMPATIBLE", "TTY_INTERACTIVE"}


def _find_script() -> Path:
    beside = Path(sys.executable).parent / "fleetgate"
    if beside.exists():
        return beside
    found = shutil.which("fleetgate")
    if found is None:
        pytest.fail("the `fleetgate` console script is not installed (pip install -e .)")
    return Path(found)


def _words(text: str) -> str:
    """Output with Rich's line wrapping undone, for matching messages."""
    return " ".join(text.split())


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """A running `fleetgate serve` subprocess."""

    proc: subprocess.Popen[bytes]
    url: str
    stdout_path: Path
    stderr_path: Path

    def get(self, path: str) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10)

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop_with_sigterm(self) -> None:
        """SIGTERM, then check the process shut down gracefully within a bounded wait."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=STOP_TIMEOUT)
        # uvicorn shuts down gracefully, then re-raises the captured signal so that a
        # supervisor sees why it stopped: -SIGTERM (shell status 143) is the clean outcome.
        assert code in (0, -signal.SIGTERM), code
        log = self.stderr()
        assert "Application shutdown complete" in log, log
        assert "Finished server process" in log, log
        assert "Traceback" not in log, log


@dataclass
class Cli:
    """Runs the console script against one data dir (and one database)."""

    backend: str
    data_dir: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.run_many([args])[0]

    def run_many(self, commands: list[tuple[str, ...]]) -> list[subprocess.CompletedProcess[str]]:
        """Run independent commands at the same time (each start costs ~0.6 s of imports)."""
        procs = [
            subprocess.Popen(
                [str(_find_script()), *args],
                env=self.env,
                cwd=self.data_dir.parent,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for args in commands
        ]
        results = []
        deadline = time.monotonic() + COMMAND_TIMEOUT
        try:
            for args, proc in zip(commands, procs, strict=True):
                out, err = proc.communicate(timeout=max(deadline - time.monotonic(), 0.1))
                results.append(subprocess.CompletedProcess(args, proc.returncode, out, err))
        finally:
            for proc in procs:
                if proc.poll() is None:
                    proc.kill()
                    proc.wait(timeout=STOP_TIMEOUT)
        return results

    def ok(self, *args: str) -> str:
        """Run a command that must succeed; its stdout."""
        r = self.run(*args)
        assert r.returncode == 0, f"fleetgate {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}"
        return r.stdout

    def create(self, name: str) -> str:
        """Create a partner; its token."""
        return self.ok("partner", "create", name).splitlines()[-1]

    @contextmanager
    def serve(self, log_name: str = "serve") -> Iterator[Served]:
        """`fleetgate serve` on a free loopback port, up and answering /health."""
        port = _free_port()
        env = self.env | {"FLEETGATE_HTTP__HOST": "127.0.0.1", "FLEETGATE_HTTP__PORT": str(port)}
        out = self.data_dir.parent / f"{log_name}.stdout"
        err = self.data_dir.parent / f"{log_name}.stderr"
        with out.open("wb") as out_f, err.open("wb") as err_f:
            proc = subprocess.Popen(
                [str(_find_script()), "serve"],
                env=env,
                cwd=self.data_dir.parent,
                stdin=subprocess.DEVNULL,
                stdout=out_f,
                stderr=err_f,
            )
        served = Served(proc, f"http://127.0.0.1:{port}", out, err)
        try:
            _wait_until_up(served)
            yield served
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)


def _wait_until_up(served: Served) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        code = served.proc.poll()
        if code is not None:
            raise AssertionError(
                f"fleetgate serve exited early with code {code}:\n"
                f"{served.stdout()}\n{served.stderr()}"
            )
        try:
            if served.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    raise AssertionError(f"fleetgate serve did not answer within {START_TIMEOUT} s")


def _base_env(data_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("FLEETGATE_") and k not in _SCRUBBED
    }
    env["FLEETGATE_DATA_DIR"] = str(data_dir)
    env["NO_COLOR"] = "1"
    return env


@pytest.fixture(params=BACKENDS)
async def cli(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    """A fresh data dir, plus a fresh PostgreSQL database for the postgres variant."""
    data_dir = tmp_path / "data"
    env = _base_env(data_dir)
    if request.param == "sqlite":
        yield Cli("sqlite", data_dir, env)
        return
    reason = await postgres_unavailable_reason()
    if reason is not None:
        if postgres_required():
            pytest.fail(
                f"PostgreSQL is required here (FLEETGATE_TEST_REQUIRE_POSTGRES=1): {reason}"
            )
        pytest.skip(f"PostgreSQL CLI tests skipped: {reason}; set FLEETGATE_TEST_POSTGRES_URL")
    url = await create_pg_database()
    try:
        yield Cli("postgres", data_dir, env | {"FLEETGATE_DATABASE_URL": url})
    finally:
        await drop_pg_database(url)


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    data_dir = tmp_path / "data"
    return Cli("sqlite", data_dir, _base_env(data_dir))


def _assert_secret_key_file(data_dir: Path) -> None:
    path = data_dir / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", path.read_text())


def test_partner_create_prints_the_token_last_and_list_shows_it(cli: Cli) -> None:
    text, as_json = cli.run_many(
        [("partner", "create", "alice"), ("partner", "create", "bob.smith@example-1", "--json")]
    )
    assert (text.returncode, as_json.returncode) == (0, 0), (text.stderr, as_json.stderr)
    out, out_json = text.stdout, as_json.stdout
    lines = out.splitlines()
    assert PARTNER_TOKEN.fullmatch(lines[-1]), out
    assert "alice" in out
    assert lines[-1] not in "\n".join(lines[:-1])

    assert len(out_json.splitlines()) == 1
    body = json.loads(out_json)
    assert list(body) == ["name", "partnerToken"]
    assert body["name"] == "bob.smith@example-1"
    assert PARTNER_TOKEN.fullmatch(body["partnerToken"])
    assert body["partnerToken"] != lines[-1]

    _assert_secret_key_file(cli.data_dir)
    if cli.backend == "sqlite":
        assert (cli.data_dir / "fleetgate.db").exists()
    else:
        assert not (cli.data_dir / "fleetgate.db").exists()

    listing = cli.ok("partner", "list")
    rows = {line.split()[1]: line for line in listing.splitlines() if line.startswith("│")}
    assert set(rows) == {"alice", "bob.smith@example-1"}
    assert all("active" in row for row in rows.values())
    # Only hashes are stored, so the list can never show a token.
    assert "gac." not in listing


def test_duplicate_and_invalid_names_fail_cleanly(cli: Cli) -> None:
    cli.create("acme")
    cases = {
        "acme": "a partner named 'acme' already exists",
        "bad name!": "partner name must be 1-100 characters",
        "a" * 101: "partner name must be 1-100 characters",
    }
    results = cli.run_many([("partner", "create", "--", name) for name in cases])
    for (name, message), r in zip(cases.items(), results, strict=True):
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert "gac." not in r.stdout
        assert message in _words(r.stderr), r.stderr
        assert "Traceback" not in r.stderr
    listing = cli.ok("partner", "list")
    names = [line.split()[1] for line in listing.splitlines() if line.startswith("│")]
    assert names == ["acme"]


def test_revoke_stops_the_token_on_a_running_server(cli: Cli) -> None:
    made = cli.run_many([("partner", "create", "alice"), ("partner", "create", "bob")])
    assert [r.returncode for r in made] == [0, 0], made
    alice, bob = (r.stdout.splitlines()[-1] for r in made)
    with cli.serve() as srv:
        r = srv.get(f"/partner/getInstances/{alice}")
        assert (r.status_code, r.json()) == (200, [])

        assert "revoked" in cli.ok("partner", "revoke", "alice")

        r = srv.get(f"/partner/getInstances/{alice}")
        assert r.status_code == 200
        assert r.content == UNAUTHORIZED
        r = srv.get(f"/partner/getInstances/{bob}")
        assert (r.status_code, r.json()) == (200, [])
        srv.stop_with_sigterm()
        # Partners existed already, so serve created none and printed no token.
        assert srv.stdout() == ""

    again, listing = cli.run_many([("partner", "revoke", "alice"), ("partner", "list")])
    assert again.returncode == 1
    assert "no active partner named 'alice'" in _words(again.stderr)
    assert "Traceback" not in again.stderr

    assert listing.returncode == 0
    rows = [line for line in listing.stdout.splitlines() if line.startswith("│")]
    alice_row = next(row for row in rows if row.split()[1] == "alice")
    bob_row = next(row for row in rows if row.split()[1] == "bob")
    assert "revoked" in alice_row
    assert "active" in bob_row
    assert "revoked" not in bob_row


def test_serve_creates_the_default_partner_once(cli: Cli) -> None:
    with cli.serve("first") as srv:
        health = srv.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        # Printed (and flushed) before the server came up, as the last stdout line.
        lines = srv.stdout().splitlines()
        token = lines[-1]
        assert PARTNER_TOKEN.fullmatch(token), lines
        assert "'default'" in lines[0]
        r = srv.get(f"/partner/getInstances/{token}")
        assert (r.status_code, r.json()) == (200, [])
        srv.stop_with_sigterm()
        assert srv.stdout().splitlines() == lines
        assert "Application shutdown complete" in srv.stderr()
    _assert_secret_key_file(cli.data_dir)

    with cli.serve("second") as srv:
        assert srv.get("/health").json() == {"status": "ok", "database": "ok"}
        # Same key file, same database: the first token still works.
        r = srv.get(f"/partner/getInstances/{token}")
        assert (r.status_code, r.json()) == (200, [])
        srv.stop_with_sigterm()
        assert srv.stdout() == ""

    listing = cli.ok("partner", "list")
    names = [line.split()[1] for line in listing.splitlines() if line.startswith("│")]
    assert names == ["default"]


def test_serve_starts_after_the_default_partner_was_revoked(sqlite_cli: Cli) -> None:
    sqlite_cli.create("default")
    sqlite_cli.ok("partner", "revoke", "default")
    with sqlite_cli.serve() as srv:
        assert srv.get("/health").json() == {"status": "ok", "database": "ok"}
        srv.stop_with_sigterm()


@pytest.mark.parametrize("name", ["[/x]", "[bold]x"])
def test_error_messages_show_the_name_literally(sqlite_cli: Cli, name: str) -> None:
    r = sqlite_cli.run("partner", "revoke", name)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert f"no active partner named '{name}'" in _words(r.stderr)


def test_partner_list_shows_long_names_in_full(sqlite_cli: Cli) -> None:
    name = "a" * 70
    sqlite_cli.create(name)
    assert name in sqlite_cli.ok("partner", "list")
