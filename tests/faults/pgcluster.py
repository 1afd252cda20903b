"""A throwaway PostgreSQL cluster (initdb in a temporary folder, its own port and socket dir).

Fault tests stop and start it at will without touching the shared test server. PostgreSQL
refuses to run as root, so when the tests run as root the cluster runs as the `postgres` user.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.support import postgres_missing

START_TIMEOUT_S = 30


def _find_bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True):
        return Path(candidate).parent
    return None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _run_as() -> dict[str, Any]:
    """subprocess arguments that run the server binaries as a user PostgreSQL accepts."""
    if os.geteuid() != 0:
        return {}
    try:
        pw = pwd.getpwnam("postgres")
    except KeyError:
        postgres_missing("running as root and there is no `postgres` user to run initdb as")
    return {"user": pw.pw_uid, "group": pw.pw_gid}


class Cluster:
    """One PostgreSQL cluster on 127.0.0.1:<port>, trust auth, user postgres, db postgres."""

    def __init__(self, bin_dir: Path, folder: Path) -> None:
        self.bin_dir = bin_dir
        self.folder = folder
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.log = folder / "postgres.log"
        self.port = _free_port()
        self.url = f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/postgres"
        self._as = _run_as()

    def _run(self, *args: str, timeout: float = START_TIMEOUT_S) -> None:
        result = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.folder,
            **self._as,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")

    def init(self) -> None:
        self.sockets.mkdir()
        if self._as:
            for path in (self.folder, self.sockets):
                os.chown(path, self._as["user"], self._as["group"])
        self._run(
            "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
            "--no-sync", "--no-instructions",
        )  # fmt: skip

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1 "
            # No fsync: a crash of the server (not of the machine) loses nothing without it.
            # synchronous_commit stays on: an immediate stop must not lose acknowledged commits.
            "-c fsync=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w",
            "-t", str(START_TIMEOUT_S), "start",
        )  # fmt: skip

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def wait_gone(self, timeout: float = 10.0) -> None:
        """Wait until nothing accepts connections on the port any more."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
            except OSError:
                return
            time.sleep(0.05)
        raise AssertionError(f"PostgreSQL still listens on port {self.port}")


@contextmanager
def throwaway_cluster() -> Iterator[Cluster]:
    """A fresh, running cluster, stopped and deleted at the end.

    Without initdb it skips, or fails where FLEETGATE_TEST_REQUIRE_POSTGRES=1 (CI).
    """
    bin_dir = _find_bin_dir()
    if bin_dir is None:
        postgres_missing("PostgreSQL server binaries (initdb, pg_ctl) not found")
    # Not pytest's tmp_path: it is private to the test user, and the server may run as another.
    folder = Path(tempfile.mkdtemp(prefix="fleetgate-pg-"))
    cluster = Cluster(bin_dir, folder)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        try:
            cluster.stop("immediate")
        except (RuntimeError, subprocess.TimeoutExpired):
            pass  # already stopped (or never started)
        shutil.rmtree(folder, ignore_errors=True)
