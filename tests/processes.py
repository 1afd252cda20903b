"""The real `fleetgate` console script as subprocesses: one-shot commands and `serve`."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

UNAUTHORIZED = b'{"code":401,"description":"Unauthorized"}'
PARTNER_TOKEN = re.compile(r"gac\.[0-9a-f]{48}")
COMMAND_TIMEOUT = 60.0
START_TIMEOUT = 60.0
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


def words(text: str) -> str:
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

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.get(self.url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> httpx.Response:
        return httpx.post(self.url + path, timeout=10, **kwargs)

    def stdout(self) -> str:
        return self.stdout_path.read_text()

    def stderr(self) -> str:
        return self.stderr_path.read_text()

    def stop_with_sigterm(self) -> None:
        """SIGTERM, then check the process shut down gracefully within a bounded wait."""
        self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=STOP_TIMEOUT)
        # uvicorn re-raises the signal after its graceful shutdown; serve turns that into 0.
        assert code == 0, code
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
    def background(
        self, *args: str, log_name: str, env: dict[str, str] | None = None, umask: int = -1
    ) -> Iterator[subprocess.Popen[bytes]]:
        """`fleetgate <args>` running in the background, killed at the end if still running.

        ``umask`` (if not -1) is the child's umask.
        """
        out = self.data_dir.parent / f"{log_name}.stdout"
        err = self.data_dir.parent / f"{log_name}.stderr"
        with out.open("wb") as out_f, err.open("wb") as err_f:
            proc = subprocess.Popen(
                [str(_find_script()), *args],
                env=self.env | (env or {}),
                cwd=self.data_dir.parent,
                stdin=subprocess.DEVNULL,
                stdout=out_f,
                stderr=err_f,
                umask=umask,
            )
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=STOP_TIMEOUT)

    @contextmanager
    def serve(
        self, log_name: str = "serve", *, args: tuple[str, ...] = (), umask: int = -1, **env: str
    ) -> Iterator[Served]:
        """`fleetgate serve [args]` on a free loopback port, up and answering /health."""
        port = _free_port()
        env |= {"FLEETGATE_HTTP__HOST": "127.0.0.1", "FLEETGATE_HTTP__PORT": str(port)}
        with self.background("serve", *args, log_name=log_name, env=env, umask=umask) as proc:
            folder = self.data_dir.parent
            served = Served(
                proc,
                f"http://127.0.0.1:{port}",
                folder / f"{log_name}.stdout",
                folder / f"{log_name}.stderr",
            )
            _wait_until_up(served)
            yield served


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


def base_env(data_dir: Path, database_url: str | None = None) -> dict[str, str]:
    """The environment of a fleetgate subprocess: ours without FLEETGATE_ settings, plus these."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.upper().startswith("FLEETGATE_") and k not in _SCRUBBED
    }
    env["FLEETGATE_DATA_DIR"] = str(data_dir)
    # Every test receiver listens on loopback, which webhooks may not reach by default.
    env["FLEETGATE_DELIVERY__ALLOW_LOOPBACK"] = "true"
    env["NO_COLOR"] = "1"
    if database_url is not None:
        env["FLEETGATE_DATABASE_URL"] = database_url
    return env
