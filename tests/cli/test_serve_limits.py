"""`fleetgate serve` against hostile connections: endless heads, slow heads, too many sockets,
clients that leave mid-body. Real sockets against the real server process."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.processes import Cli, Served, base_env

MIB = 1 << 20
BOUND_S = 15.0  # how long any single wait below may take at most (never a sleep)


def _serve(folder: Path, **env: str) -> Iterator[Served]:
    data_dir = folder / "data"
    cli = Cli("sqlite", data_dir, base_env(data_dir))
    with cli.serve(**{"FLEETGATE_RUNNER__ENABLED": "false", **env}) as srv:
        yield srv
        # Whatever the tests did to it, it still stops cleanly, without a traceback.
        srv.stop_with_sigterm()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """One server for the tests below (each start costs seconds): a 1 s head timeout, the
    default 64 KiB head cap, and every record at DEBUG as JSON."""
    yield from _serve(
        tmp_path_factory.mktemp("served"),
        FLEETGATE_HTTP__HEAD_TIMEOUT_S="1",
        FLEETGATE_LOG_LEVEL="debug",
        FLEETGATE_LOG_FORMAT="json",
    )


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """A server that keeps 20 connections at most."""
    yield from _serve(tmp_path_factory.mktemp("capped"), FLEETGATE_HTTP__MAX_CONNECTIONS="20")


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


async def _connect(srv: Served) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    host, port = srv.url.removeprefix("http://").split(":")
    return await asyncio.open_connection(host, int(port))


async def _answer(reader: asyncio.StreamReader) -> bytes:
    """What the server sends until it closes (b"" when the close reached us as a reset)."""
    try:
        return await asyncio.wait_for(reader.read(), BOUND_S)
    except ConnectionError:
        return b""


async def _stream_endless_header(srv: Served, limit: int) -> tuple[int, bytes]:
    """Send a header that never ends, up to ``limit`` bytes; what got sent before the server
    stopped it, and its answer."""
    reader, writer = await _connect(srv)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Endless: ")
    sent, chunk = 0, b"a" * 65_536
    try:
        while sent < limit:
            writer.write(chunk)
            await asyncio.wait_for(writer.drain(), BOUND_S)
            sent += len(chunk)
    except (ConnectionError, TimeoutError):
        pass
    answer = await _answer(reader)
    writer.close()
    return sent, answer


async def test_endless_headers_are_cut_off_and_memory_stays_bounded(served: Served) -> None:
    before = _rss_bytes(served.proc.pid)
    results = await asyncio.gather(*(_stream_endless_header(served, 40 * MIB) for _ in range(8)))
    for sent, answer in results:
        # The server stopped reading long before 40 MiB (what was sent sits in socket buffers).
        assert sent < 16 * MIB, sent
        assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    grown = _rss_bytes(served.proc.pid) - before
    # Without the cap httptools buffers every byte: 8 x 40 MiB.
    assert grown < 40 * MIB, grown
    assert served.get("/health").status_code == 200


async def _send_head(served: Served, header_bytes: int) -> bytes:
    """Send one complete request head with a header of that size; the server's answer."""
    reader, writer = await _connect(served)
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"b" * header_bytes + b"\r\n\r\n")
    answer = await _answer(reader)
    writer.close()
    return answer


async def test_complete_heads_over_the_cap_are_refused_and_large_ones_served(
    served: Served,
) -> None:
    # 100 kB is read whole, so the 431 arrives before the close.
    answer = await _send_head(served, 100_000)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert b"connection: close" in answer
    # Of 50 MB the server reads a little and closes; the rest it never reads (the close may
    # reach the client as a reset, before the 431).
    answer = await _send_head(served, 50_000_000)
    assert answer == b"" or answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    r = served.get("/health", headers={"X-Big": "c" * 32_000})
    assert r.status_code == 200


async def test_slow_and_silent_connections_are_closed_after_the_head_timeout(
    served: Served,
) -> None:
    # Taken before connecting: the server's timer starts when it accepts the connection.
    started = time.monotonic()
    silent_reader, silent = await _connect(served)
    slow_reader, slow = await _connect(served)
    slow.write(b"GET /health HTTP/1.1\r\n")

    async def trickle() -> None:
        # One header byte every 0.1 s: each byte would reset a per-read timeout.
        with pytest.raises(ConnectionError):
            for _ in range(int(BOUND_S * 10)):
                slow.write(b"X")
                await slow.drain()
                await asyncio.sleep(0.1)

    trickling = asyncio.create_task(trickle())
    slow_answer = await _answer(slow_reader)
    assert time.monotonic() - started >= 1.0
    assert slow_answer.startswith(b"HTTP/1.1 408 "), slow_answer[:80]
    trickling.cancel()
    silent_answer = await _answer(silent_reader)
    assert silent_answer.startswith(b"HTTP/1.1 408 "), silent_answer[:80]
    for writer in (silent, slow):
        writer.close()
    # A kept-alive connection is not hurried: two requests a second apart on one connection.
    reader, writer = await _connect(served)
    for _ in range(2):
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), BOUND_S)
        assert head.startswith(b"HTTP/1.1 200 ")
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        await reader.readexactly(length)
        await asyncio.sleep(0.6)
    writer.close()


async def test_connections_over_the_cap_get_503_and_are_closed(capped: Served) -> None:
    held = [await _connect(capped) for _ in range(20)]
    # The 20 are the server's once a request on the last one is answered.
    reader, writer = held[-1]
    writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert (await asyncio.wait_for(reader.readuntil(b"\r\n"), BOUND_S)).startswith(b"HTTP/1.1 200 ")
    over_reader, over = await _connect(capped)
    answer = await _answer(over_reader)
    assert answer.startswith(b"HTTP/1.1 503 "), answer[:80]
    over.close()
    # One of the 20 leaves: a new connection is served again (once the server saw it go).
    held.pop(0)[1].close()
    deadline = time.monotonic() + BOUND_S
    while True:
        reader, writer = await _connect(capped)
        writer.write(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        answer = await _answer(reader)
        writer.close()
        if answer.startswith(b"HTTP/1.1 200 ") or time.monotonic() > deadline:
            break
        await asyncio.sleep(0.05)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]
    for _, w in held:
        w.close()


def _records(served: Served) -> list[dict[str, str]]:
    return [orjson.loads(line) for line in served.stderr().splitlines() if line.strip()]


async def test_a_client_leaving_mid_body_is_one_debug_record(served: Served) -> None:
    for _ in range(3):
        _, writer = await _connect(served)
        writer.write(
            b"POST /partner/createInstance/nope HTTP/1.1\r\nHost: x\r\n"
            b'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name": '
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    deadline = time.monotonic() + BOUND_S
    gone: list[dict[str, str]] = []
    while len(gone) < 3 and time.monotonic() < deadline:
        gone = [r for r in _records(served) if "client went away" in r["message"]]
        await asyncio.sleep(0.05)
    assert len(gone) == 3, served.stderr()
    assert {r["level"] for r in gone} == {"DEBUG"}
    records = _records(served)  # every line is one JSON object
    assert not [r for r in records if r["level"] in ("ERROR", "CRITICAL") or "exc" in r]
    assert "Traceback" not in served.stderr()
