"""Fetching media by URL in the worker (media.py) from a real HTTP server on loopback, and the
store's DSN rules and device look-up on SQLite (store.py)."""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from fleetgate.targets import TargetPolicy
from fleetgate_whatsapp.client import ClientError
from fleetgate_whatsapp.media import MediaFetcher
from fleetgate_whatsapp.store import has_device, library_dsn, schema_of

PDF = b"%PDF-1.4 a small document"
LIMIT = 1000
RELEASE = threading.Event()  # the /held route answers when the test sets it


class _Files(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path == "/doc":
            self._send(200, PDF, {"Content-Disposition": 'attachment; filename="report.pdf"'})
        elif self.path == "/files/photo%20one.jpg":
            self._send(200, b"\xff\xd8\xff jpeg", {"Content-Type": "image/jpeg; q=1"})
        elif self.path == "/moved":
            self._send(302, b"", {"Location": "/doc"})
        elif self.path == "/loop":
            self._send(302, b"", {"Location": "/loop"})
        elif self.path == "/big":
            self._send(200, b"x" * (LIMIT + 1), {})
        elif self.path == "/big-unannounced":
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"x" * (LIMIT + 1))
            self.close_connection = True
        elif self.path == "/held":
            RELEASE.wait(10)
            with contextlib.suppress(ConnectionError):  # the fetcher gave up long ago
                self._send(200, PDF, {})
        else:
            self._send(404, b"no", {})

    def _send(self, status: int, body: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def files() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Files)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        RELEASE.set()
        server.shutdown()
        server.server_close()


def _fetcher(*, loopback: bool = True, timeout_s: float = 5.0) -> MediaFetcher:
    policy = TargetPolicy(allow_loopback=loopback, allow_private=False)
    return MediaFetcher(policy, max_bytes=LIMIT, timeout_s=timeout_s)


def test_a_file_is_fetched_with_its_type_and_name(files: str) -> None:
    fetched = _fetcher().fetch(f"{files}/doc")
    assert (fetched.content, fetched.file_name) == (PDF, "report.pdf")
    photo = _fetcher().fetch(f"{files}/files/photo%20one.jpg")
    assert (photo.content_type, photo.file_name) == ("image/jpeg", "photo one.jpg")
    assert _fetcher().fetch(f"{files}/moved").content == PDF


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/big", "file is over 1000 bytes"),
        ("/big-unannounced", "file is over 1000 bytes"),
        ("/loop", "file URL redirects more than 3 times"),
        ("/missing", "file URL answered HTTP 404"),
    ],
)
def test_what_cannot_be_fetched_is_a_clear_error(files: str, path: str, error: str) -> None:
    with pytest.raises(ClientError, match=error):
        _fetcher().fetch(f"{files}{path}")


def test_loopback_is_refused_unless_allowed(files: str) -> None:
    with pytest.raises(ClientError, match=r"file URL refused: .* loopback"):
        _fetcher(loopback=False).fetch(f"{files}/doc")
    with pytest.raises(ClientError, match=r"file URL refused: .* http:// or https://"):
        _fetcher().fetch("file:///etc/passwd")


def test_a_fetch_is_bounded_in_time(files: str) -> None:
    with pytest.raises(ClientError, match="file URL took over"):
        _fetcher(timeout_s=0.3).fetch(f"{files}/held")


def test_store_dsns_follow_the_library_rules() -> None:
    dsn = library_dsn("postgresql+asyncpg://fg:pw@db:5432/fleet")
    assert dsn == "postgres://fg:pw@db:5432/fleet?sslmode=disable&search_path=whatsmeow"
    assert schema_of(dsn) == "whatsmeow"
    kept = library_dsn("postgres://db/fleet?sslmode=require&search_path=wa")
    assert kept == "postgres://db/fleet?sslmode=require&search_path=wa"
    assert library_dsn("/var/lib/fleetgate/wa/1100000001.whatsmeow").endswith(".whatsmeow")
    with pytest.raises(ClientError, match="neither a postgres:// URL nor a file path"):
        library_dsn("host=db dbname=fleet")


def test_a_device_is_looked_up_in_a_sqlite_store(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    assert not has_device(str(store), "1:2@s.whatsapp.net")  # no file yet
    with closing(sqlite3.connect(store)) as db:
        db.execute("CREATE TABLE other (x)")
    assert not has_device(str(store), "1:2@s.whatsapp.net")  # not migrated yet
    with closing(sqlite3.connect(store)) as db:
        db.execute("CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)")
        db.execute("INSERT INTO whatsmeow_device VALUES ('1:2@s.whatsapp.net')")
        db.commit()
    assert has_device(str(store), "1:2@s.whatsapp.net")
    assert not has_device(str(store), "1:3@s.whatsapp.net")
