"""An S3-compatible store on 127.0.0.1 for the media benchmark: moto's standalone server.

moto keeps objects in its own Python process, so its throughput says nothing about real
S3; it shows that fleetgate's S3 path streams, and what that path costs fleetgate itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

import httpx

from bench.server import free_port

BUCKET = "fleetgate-bench"
# moto accepts any credentials; fleetgate signs its requests with these.
_KEY_ID, _SECRET = "bench", "bench-secret"


class MotoServer:
    """``python -m moto.server`` on a free loopback port, with one empty bucket."""

    def __init__(self, log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._log_path = log_path
        self._proc: subprocess.Popen[bytes] | None = None

    def server_env(self) -> dict[str, str]:
        """The settings that point a fleetgate server's media store at this bucket."""
        return {
            "FLEETGATE_MEDIA__BACKEND": "s3",
            "FLEETGATE_MEDIA__S3_BUCKET": BUCKET,
            "FLEETGATE_MEDIA__S3_ENDPOINT": self.url,
            "FLEETGATE_MEDIA__S3_ACCESS_KEY_ID": _KEY_ID,
            "FLEETGATE_MEDIA__S3_SECRET_ACCESS_KEY": _SECRET,
            "FLEETGATE_MEDIA__S3_ALLOW_HTTP": "true",
        }

    def start(self, timeout: float = 30.0) -> None:
        with self._log_path.open("wb") as log:
            self._proc = subprocess.Popen(
                [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"moto exited; see {self._log_path}")
            try:
                # An unsigned PUT on the bucket's path creates it (moto checks no signature).
                if httpx.put(f"{self.url}/{BUCKET}", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto did not answer within {timeout} s")

    def stop(self) -> None:
        if self._proc is None or self._proc.poll() is not None:
            return
        self._proc.terminate()
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()

    def __enter__(self) -> MotoServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
