"""A real S3-compatible server for the media tests: moto's standalone server on 127.0.0.1.

It runs as a process of its own for the whole session, and each live server gets a fresh
bucket in it, so the s3 media backend is tested over real HTTP with real multipart uploads.
Where CI requires every backend (``CI``, or FLEETGATE_TEST_REQUIRE_POSTGRES=1), a missing
moto fails the tests instead of skipping them.
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn

import httpx
import pytest

from tests.support import postgres_required

START_TIMEOUT_S = 20.0
# moto accepts any credentials; these only have to be present and well formed.
ACCESS_KEY_ID = "fleetgatetest"
SECRET_ACCESS_KEY = "fleetgatetestsecret"
REGION = "us-east-1"
_S3_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"


def s3_required() -> bool:
    return bool(os.environ.get("CI")) or postgres_required()


def s3_missing(reason: str) -> NoReturn:
    """Skip the s3 variants here; fail instead where CI requires every backend."""
    if s3_required():
        pytest.fail(f"the S3 test server is required here: {reason}")
    pytest.skip(f"S3 media tests skipped: {reason}")


@dataclass(frozen=True)
class S3Server:
    """moto's server, reached at ``url``."""

    url: str

    def new_bucket(self) -> str:
        """A fresh, empty bucket's name."""
        name = f"fleetgate-{secrets.token_hex(6)}"
        r = httpx.put(f"{self.url}/{name}", timeout=10)
        assert r.status_code == 200, r.text
        return name

    def keys(self, bucket: str) -> list[str]:
        """The keys of every object in ``bucket`` (ListObjectsV2, following continuations)."""
        found: list[str] = []
        token = ""
        while True:
            params = {"list-type": "2"} | ({"continuation-token": token} if token else {})
            r = httpx.get(f"{self.url}/{bucket}", params=params, timeout=10)
            assert r.status_code == 200, r.text
            root = ET.fromstring(r.content)
            found += [k.text or "" for k in root.iter(f"{_S3_NS}Key")]
            token = root.findtext(f"{_S3_NS}NextContinuationToken") or ""
            if not token:
                return found

    def media_settings(self, bucket: str) -> dict[str, object]:
        """The media settings of a fleetgate that keeps its files in ``bucket`` here."""
        return {
            "backend": "s3",
            "s3_bucket": bucket,
            "s3_endpoint": self.url,
            "s3_region": REGION,
            "s3_access_key_id": ACCESS_KEY_ID,
            "s3_secret_access_key": SECRET_ACCESS_KEY,
            "s3_allow_http": True,
        }


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        return httpx.get(f"{url}/moto-api/", timeout=1).status_code < 500
    except httpx.HTTPError:
        return False


@contextmanager
def moto_server() -> Iterator[S3Server]:
    """moto's server in a process of its own, until the block ends (waited for, bounded)."""
    if importlib.util.find_spec("moto.server") is None or importlib.util.find_spec("flask") is None:
        s3_missing("moto[server] is not installed (a dev dependency: make .venv/.installed-stamp)")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # moto is none of fleetgate's code: it runs unmeasured by coverage (much faster).
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_PROCESS_")}
    env |= {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": SECRET_ACCESS_KEY}
    # Its request log goes to a file: a pipe nobody reads would fill and stall it.
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while not _answers(url):
            if proc.poll() is not None:
                log.seek(0)
                err = log.read().decode(errors="replace")
                s3_missing(f"moto's server exited with {proc.returncode}: {err[-2000:]}")
            if time.monotonic() > deadline:
                s3_missing(f"moto's server did not answer within {START_TIMEOUT_S:g} s")
            time.sleep(0.05)
        yield S3Server(url)
    finally:
        proc.kill()
        proc.wait(timeout=10)
        log.close()
