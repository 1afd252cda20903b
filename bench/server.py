"""A fleetgate server in its own process (``fleetgate serve``), as an operator would run it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

# Exactly what the `fleetgate` console script runs, without depending on where pip put it.
_SERVE = "from fleetgate.cli.main import main; main()"


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def proc_status_kib(pid: int, key: str) -> int:
    """A ``/proc/<pid>/status`` figure in KiB (VmRSS = resident now, VmHWM = peak resident)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def proc_cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process (all its threads) has used so far."""
    # Fields after the command name: state is the first, utime the 12th, stime the 13th.
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU time all processes on the machine have used (every core, from ``/proc/stat``)."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(f) for f in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class ServerProcess:
    """``fleetgate serve`` on 127.0.0.1 with a given data dir and database; a context manager."""

    def __init__(
        self,
        *,
        data_dir: Path,
        database_url: str,
        log_path: Path,
        runner: bool = False,
        delivery: bool | None = None,
        extra_env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        deliver = runner if delivery is None else delivery
        self._env = os.environ | {
            "FLEETGATE_DATA_DIR": str(data_dir),
            "FLEETGATE_DATABASE_URL": database_url,
            "FLEETGATE_HTTP__HOST": "127.0.0.1",
            "FLEETGATE_HTTP__PORT": str(self.port),
            # Off: an API-only process (no runner, no delivery worker), as the API nodes of a
            # split deployment run; on: everything in one process, as a plain `serve` does.
            "FLEETGATE_RUNNER__ENABLED": "true" if runner else "false",
            "FLEETGATE_DELIVERY__ENABLED": "true" if deliver else "false",
            # The per-instance limits (getStateInstance 1/s, sendMessage 50/s, ...) would
            # answer most benchmark requests with 429; throughput is measured without them.
            "FLEETGATE_RATELIMITS__ENABLED": "false",
            # The benchmark receiver listens on loopback, off limits by default.
            "FLEETGATE_DELIVERY__ALLOW_LOOPBACK": "true",
        }
        self._env |= extra_env or {}
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int:
        if self._proc is None:
            raise RuntimeError("server not started")
        return self._proc.pid

    def rss_mib(self) -> float:
        """Resident memory of the server process now, in MiB."""
        return proc_status_kib(self.pid, "VmRSS") / 1024

    def peak_rss_mib(self) -> float:
        """Peak resident memory since start (or since :meth:`reset_peak_rss`), in MiB."""
        return proc_status_kib(self.pid, "VmHWM") / 1024

    def cpu_seconds(self) -> float:
        """CPU time the server has used so far (user + system, every thread)."""
        return proc_cpu_seconds(self.pid)

    def reset_peak_rss(self) -> None:
        """Restart the peak (VmHWM) from the current RSS (Linux ``clear_refs`` value 5)."""
        Path(f"/proc/{self.pid}/clear_refs").write_text("5")

    def start(self, timeout: float = 60.0) -> None:
        self.launch()
        self.wait_healthy(timeout)

    def launch(self) -> None:
        """Start the process and return at once (see :meth:`wait_healthy`)."""
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-c", _SERVE, "serve"],
                env=self._env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def healthy(self) -> bool:
        """Whether the server answers /health now; raises if the process has exited."""
        if self._proc is None or self._proc.poll() is not None:
            raise RuntimeError(f"server exited; see {self._log_path}")
        try:
            return httpx.get(self.url + "/health", timeout=1).status_code == 200
        except httpx.TransportError:
            return False

    def wait_healthy(self, timeout: float = 60.0) -> None:
        """Block until /health answers 200; stop the server and raise after ``timeout``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.healthy():
                return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not answer /health within {timeout} s")

    def stop(self) -> None:
        """SIGINT (uvicorn's graceful shutdown), then SIGKILL if it lingers."""
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> ServerProcess:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
