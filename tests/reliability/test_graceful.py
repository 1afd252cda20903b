"""SIGTERM on `fleetgate serve`: new connections are refused at once, the request and the
webhook delivery in flight finish, the runner hands its instances back, the process exits 0.
What outlasts the grace is cut off (and the notification stays queued)."""

from __future__ import annotations

import signal
import socket
import time
from pathlib import Path

import httpx
import orjson
import pytest
from sqlalchemy import func, select

from fleetgate.api.middleware import SHUTTING_DOWN
from fleetgate.storage.db import Database
from fleetgate.storage.tables import InstanceRow, NotificationRow, RunnerRow
from tests.processes import Cli, Served, base_env
from tests.receiver import Receiver, running_receiver
from tests.support import BACKENDS, Instance, fresh_database, wait_for_state

LONG_POLL_S = 5
Answer = tuple[int, bytes] | None


class InFlight:
    """A request the server has certainly read and not yet answered.

    It is written in one piece right behind ``GET /health`` on one connection. The server reads
    both requests at once and takes up the second as soon as it has answered the first, so once
    /health is answered the second is in the server's hands: a shutdown must finish it or cut
    it off, never lose it unread.
    """

    def __init__(self, port: int, path: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.buffered = b""
        self.sock.sendall(_get("/health") + _get(path))
        first = self.answer()
        assert first is not None and first[0] == 200, first

    def answer(self) -> Answer:
        """The next response's status and body; None if the server closed the connection."""
        while b"\r\n\r\n" not in self.buffered:
            if not self._read():
                return None
        head, _, self.buffered = self.buffered.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.lower().split(":", 1) for line in lines[1:])
        length = int(fields["content-length"])
        while len(self.buffered) < length:
            if not self._read():
                return None
        body, self.buffered = self.buffered[:length], self.buffered[length:]
        return int(lines[0].split()[1]), body

    def _read(self) -> bool:
        chunk = self.sock.recv(65536)
        self.buffered += chunk
        return bool(chunk)

    def close(self) -> None:
        self.sock.close()


def _get(path: str) -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: fleetgate\r\n\r\n".encode()


def _wait_refused(port: int, timeout: float = 5.0) -> None:
    """Poll until the port refuses connections (the server stopped listening)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            return
        time.sleep(0.02)
    raise AssertionError(f"port {port} still accepts connections {timeout} s after SIGTERM")


def _wait_delivery_in_flight(receiver: Receiver, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with receiver.lock:
            if any(receiver.inflight.values()):
                return
        time.sleep(0.02)
    raise AssertionError("no webhook delivery reached the receiver")


async def _hooked_instance(srv: Served, partner: str, receiver: Receiver) -> Instance:
    async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
        body = {"webhookUrl": receiver.hook("graceful"), "stateWebhook": "yes"}
        r = await client.post(f"/partner/createInstance/{partner}", json=body)
        assert r.status_code == 200, r.text
        made = Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], partner)
        # The runner has started the session, so it owns the instance now.
        await wait_for_state(client, made, "notAuthorized")
    return made


async def _table_counts(url: str) -> tuple[int, int, int]:
    """Instances with an owner, registered runners, and queued notifications."""
    db = Database(url)
    try:
        async with db.reading() as session:
            owned = await session.scalar(
                select(func.count()).where(InstanceRow.runner_id.is_not(None))
            )
            runners = await session.scalar(select(func.count()).select_from(RunnerRow))
            queued = await session.scalar(select(func.count()).select_from(NotificationRow))
        return int(owned or 0), int(runners or 0), int(queued or 0)
    finally:
        await db.dispose()


def _port(srv: Served) -> int:
    return int(srv.url.rsplit(":", 1)[1])


@pytest.mark.parametrize("backend", BACKENDS)
async def test_sigterm_finishes_what_is_in_flight_and_releases_instances(
    backend: str, tmp_path: Path
) -> None:
    # Graces far longer than the work: the server must leave as soon as the work is done.
    # The work takes the long poll's time and a few seconds more; 30 s was once exceeded
    # (35.7 s) on a machine with a load average of 8.
    grace_s = 60
    async with fresh_database(backend, tmp_path) as url:
        data_dir = tmp_path / "data"
        env = base_env(data_dir, url) | {
            "FLEETGATE_HTTP__GRACE_S": str(grace_s),
            "FLEETGATE_DELIVERY__STOP_GRACE_S": str(grace_s),
            "FLEETGATE_RUNNER__TICK_S": "0.2",
        }
        cli = Cli(backend, data_dir, env)
        partner = cli.create("graceful")
        with running_receiver() as receiver, cli.serve("graceful") as srv:
            # The webhook is held until the long poll has been answered, so the delivery
            # outlasts the HTTP requests and finishes in the delivery worker's own grace.
            receiver.behave("graceful", hold_s=4 * grace_s)
            made = await _hooked_instance(srv, partner, receiver)
            assert (await _table_counts(url))[0] == 1
            _wait_delivery_in_flight(receiver)
            poll = InFlight(
                _port(srv), made.url("receiveNotification") + f"?receiveTimeout={LONG_POLL_S}"
            )
            try:
                signalled = time.monotonic()
                srv.proc.send_signal(signal.SIGTERM)
                _wait_refused(_port(srv))
                # The long poll of an instance with a webhook waits its time, then says null.
                assert poll.answer() == (200, b"null")
                assert time.monotonic() - signalled > LONG_POLL_S - 2
                receiver.release()
            finally:
                poll.close()
            assert srv.proc.wait(timeout=2 * grace_s + 5) == 0
            took = time.monotonic() - signalled
            delivered = receiver.of("graceful")
        log = srv.stderr()
        assert "Application shutdown complete" in log, log
        assert "Traceback" not in log, log
        assert took < grace_s, took  # left once done, without waiting out a grace
        assert [r.body["typeWebhook"] for r in delivered] == ["stateInstanceChanged"]
        # Owned nothing, registered nowhere, and the delivered notification is gone.
        assert await _table_counts(url) == (0, 0, 0)


@pytest.mark.parametrize("backend", BACKENDS)
async def test_what_outlasts_the_grace_is_cut_off_and_stays_queued(
    backend: str, tmp_path: Path
) -> None:
    async with fresh_database(backend, tmp_path) as url:
        data_dir = tmp_path / "data"
        env = base_env(data_dir, url) | {
            "FLEETGATE_HTTP__GRACE_S": "1",
            "FLEETGATE_DELIVERY__STOP_GRACE_S": "1",
        }
        cli = Cli(backend, data_dir, env)
        partner = cli.create("cut")
        with running_receiver() as receiver, cli.serve("cut") as srv:
            receiver.behave("graceful", hold_s=60)  # answered only after the test
            made = await _hooked_instance(srv, partner, receiver)
            _wait_delivery_in_flight(receiver)
            poll = InFlight(_port(srv), made.url("receiveNotification") + "?receiveTimeout=30")
            try:
                signalled = time.monotonic()
                srv.proc.send_signal(signal.SIGTERM)
                assert srv.proc.wait(timeout=15) == 0
                took = time.monotonic() - signalled
                cut = poll.answer()
            finally:
                poll.close()
        # Cut off at the 1 s grace: not after the 30 s long poll or the held delivery.
        assert took < 20, took
        # uvicorn cancels the request; it is answered 503 in its façade's format, not 500.
        assert cut == (503, orjson.dumps({"code": 503, "description": SHUTTING_DOWN})), cut
        assert "timeout graceful shutdown exceeded" in srv.stderr()
        assert "Exception in ASGI application" not in srv.stderr()
        # Released at once; the cancelled delivery stays queued, to be sent again.
        assert await _table_counts(url) == (0, 0, 1)
