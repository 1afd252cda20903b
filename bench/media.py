"""Files and media (#16): a 100 MB file through a real server, and the server's memory meanwhile.

    python -m bench.media [--backend sqlite|postgres|all] [--store local|s3|all] [--repeats 3]

On a server of its own (one instance, API only), each round does, in this order:

- *disk*: the same bytes written to a file beside the media folder by a plain Python loop
  (same chunk size, no fsync, as the local store does not sync either): the ceiling;
- *uploadFile*: the file as a raw body (``GA-Filename``), answered with its urlFile;
- *download*: that urlFile fetched, streamed and thrown away;
- *sendFileByUpload*: the file in a multipart form with a ``chatId`` (the message is queued).

The client streams too: its body is a generator over a 4 MiB pool of random bytes behind an
MP4 header, so neither side ever needs the whole file. While each transfer runs, a thread
reads the server's VmRSS every 20 ms; the peak is the larger of those samples and the kernel's
own high-water mark (VmHWM, reset before each transfer), so no short spike is missed. Growth
is peak minus the RSS just before the transfer. Each figure is the median of the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TypeVar

import httpx

from bench.backends import BACKENDS, database
from bench.driver import Outcome
from bench.fleet import InstanceSet, SeededInstance, seed_sets
from bench.report import MEDIA_COLUMNS, machine, table, write_json
from bench.s3 import MotoServer
from bench.server import ServerProcess, machine_busy_seconds
from bench.stats import Figure, Run, Target
from fleetgate.context import Context
from fleetgate.settings import Settings

STORES = ("local", "s3")
DEFAULT_MB = 100
CHUNK_BYTES = 256 * 1024  # the client's body chunks and the disk loop's writes
SAMPLE_S = 0.02
# Issue #16: uploading 100 MB must not grow the server by more than this (in any round;
# the first, on a fresh server, grows most: later ones reuse memory the allocator kept).
GROWTH_TARGET = Target("rss_growth_max_MiB", 32)
_POOL_BYTES = 4 * 1024 * 1024
# An ISO media "ftyp" box: the server sniffs the file as video/mp4.
_MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
_PREFIX = 2005
_TIMEOUT = httpx.Timeout(60.0)
T = TypeVar("T")


def payload(size: int) -> Iterator[bytes]:
    """``size`` bytes of an MP4-looking file, in ``CHUNK_BYTES`` pieces, never all at once."""
    pool = os.urandom(_POOL_BYTES)
    yield _MP4_HEAD
    sent, offset = len(_MP4_HEAD), 0
    while sent < size:
        n = min(CHUNK_BYTES, size - sent, _POOL_BYTES - offset)
        yield pool[offset : offset + n]
        sent += n
        offset = (offset + n) % _POOL_BYTES


@dataclass(frozen=True, slots=True)
class Sample:
    """One transfer: how long it took, and the server's memory and CPU around it."""

    seconds: float
    rss_base_mib: float
    rss_peak_mib: float
    rss_after_mib: float
    server_cpu_s: float
    samples: int

    @property
    def growth_mib(self) -> float:
        return self.rss_peak_mib - self.rss_base_mib


class RssWatch:
    """Samples the server's resident memory in a thread while one transfer runs."""

    def __init__(self, server: ServerProcess) -> None:
        self._server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._max = 0.0
        self._count = 0

    def _sample(self) -> None:
        while not self._stop.is_set():
            self._max = max(self._max, self._server.rss_mib())
            self._count += 1
            self._stop.wait(SAMPLE_S)

    def measure(self, transfer: Callable[[], T]) -> tuple[Sample, T]:
        """Run ``transfer`` (once per watch), sampling; its result and the figures."""
        server = self._server
        base = server.rss_mib()
        server.reset_peak_rss()
        cpu = server.cpu_seconds()
        self._thread.start()
        began = time.perf_counter()
        try:
            result = transfer()
        finally:
            seconds = time.perf_counter() - began
            self._stop.set()
            self._thread.join()
        peak = max(self._max, server.peak_rss_mib())
        after = server.rss_mib()
        cpu = server.cpu_seconds() - cpu
        return Sample(seconds, base, peak, after, cpu, self._count), result


def _upload(client: httpx.Client, instance: SeededInstance, size: int) -> str:
    resp = client.post(
        instance.path("uploadFile"),
        content=payload(size),
        headers={"Content-Type": "video/mp4", "GA-Filename": "bench.mp4"},
    )
    if resp.status_code != 200 or "urlFile" not in resp.json():
        raise RuntimeError(f"uploadFile answered {resp.status_code}: {resp.text[:300]}")
    url: str = resp.json()["urlFile"]
    return url


def _download(client: httpx.Client, url: str, size: int) -> None:
    got = 0
    with client.stream("GET", url) as resp:
        if resp.status_code != 200:
            raise RuntimeError(f"download answered {resp.status_code}")
        for chunk in resp.iter_raw():
            got += len(chunk)
    if got != size:
        raise RuntimeError(f"download gave {got} bytes of {size}")


def _form(boundary: str, size: int) -> Iterator[bytes]:
    """A multipart/form-data body (chatId, then the file part), streamed."""
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="chatId"\r\n\r\n'
        f"79990000001@c.us\r\n--{boundary}\r\n"
        'Content-Disposition: form-data; name="file"; filename="bench.mp4"\r\n'
        "Content-Type: video/mp4\r\n\r\n"
    ).encode()
    yield from payload(size)
    yield f"\r\n--{boundary}--\r\n".encode()


def _send_by_upload(client: httpx.Client, instance: SeededInstance, size: int) -> None:
    boundary = secrets.token_hex(16)
    resp = client.post(
        instance.path("sendFileByUpload"),
        content=_form(boundary, size),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    if resp.status_code != 200 or "idMessage" not in resp.json():
        raise RuntimeError(f"sendFileByUpload answered {resp.status_code}: {resp.text[:300]}")


def _write_disk(path: Path, size: int) -> None:
    with path.open("wb") as out:
        for chunk in payload(size):
            out.write(chunk)


def _rounds(
    server: ServerProcess, instance: SeededInstance, work: Path, repeats: int, size: int
) -> dict[str, list[Sample]]:
    """Every transfer ``repeats`` times, interleaved so drift on the machine hits all alike."""
    out: dict[str, list[Sample]] = {"disk": [], "upload": [], "download": [], "multipart": []}
    scratch = work / "disk-bench.bin"
    with httpx.Client(base_url=server.url, timeout=_TIMEOUT) as client:
        for _ in range(repeats):
            sample, _ = RssWatch(server).measure(partial(_write_disk, scratch, size))
            out["disk"].append(sample)
            scratch.unlink()
            sample, url = RssWatch(server).measure(partial(_upload, client, instance, size))
            out["upload"].append(sample)
            sample, _ = RssWatch(server).measure(partial(_download, client, url, size))
            out["download"].append(sample)
            sample, _ = RssWatch(server).measure(partial(_send_by_upload, client, instance, size))
            out["multipart"].append(sample)
    return out


async def media_bench(
    backend: str, work: Path, *, store: str, repeats: int, size: int = DEFAULT_MB * 1_000_000
) -> list[Run]:
    """A server of its own with one instance; ``repeats`` rounds of every transfer."""
    work.mkdir(parents=True, exist_ok=True)
    async with database(backend, work) as url:
        settings = Settings(data_dir=work, database_url=url)
        ctx = Context.from_settings(settings)
        try:
            await ctx.db.migrate()
        finally:
            await ctx.db.dispose()
        spec = InstanceSet("media", 1, _PREFIX)
        instance = (await seed_sets(settings, "bench-media", [spec]))["media"][0]
        env = {"FLEETGATE_MEDIA__MAX_FILE_BYTES": str(max(size, 100 * 1024 * 1024))}
        with ExitStack() as stack:
            if store == "s3":
                env |= stack.enter_context(MotoServer(work / "moto.log")).server_env()
            log = work / "server.log"
            server = ServerProcess(data_dir=work, database_url=url, log_path=log, extra_env=env)
            stack.enter_context(server)
            busy = machine_busy_seconds()
            began = time.perf_counter()
            try:
                samples = await asyncio.to_thread(_rounds, server, instance, work, repeats, size)
            except Exception:
                print(log.read_text()[-3000:], file=sys.stderr)
                raise
            machine_pct = (machine_busy_seconds() - busy) / (time.perf_counter() - began) * 100
    return _runs(backend, store, samples, size, round(machine_pct))


def _runs(
    backend: str, store: str, samples: dict[str, list[Sample]], size: int, machine_pct: int
) -> list[Run]:
    mb = size / 1_000_000
    disk_rate = statistics.median(mb / s.seconds for s in samples["disk"])
    names = {
        "disk": f"disk write {mb:g} MB, plain loop (with {store})",
        "upload": f"uploadFile {mb:g} MB ({store})",
        "download": f"download urlFile {mb:g} MB ({store})",
        "multipart": f"sendFileByUpload {mb:g} MB ({store})",
    }
    runs = []
    for op, taken in samples.items():
        rate = statistics.median(mb / s.seconds for s in taken)
        seconds = [s.seconds for s in taken]
        extra: dict[str, Figure] = {
            "store": store,
            "rounds": len(taken),
            "MB_per_s": round(rate, 1),
            "machine_cpu_%": machine_pct,
        }
        if op != "disk":
            extra |= {
                "vs_disk": round(rate / disk_rate, 3),
                "server_cpu_%": round(
                    statistics.median(s.server_cpu_s / s.seconds * 100 for s in taken)
                ),
                "rss_base_MiB": _median(s.rss_base_mib for s in taken),
                "rss_peak_MiB": _median(s.rss_peak_mib for s in taken),
                "rss_growth_MiB": _median(s.growth_mib for s in taken),
                "rss_growth_max_MiB": round(max(s.growth_mib for s in taken), 1),
                "rss_after_MiB": _median(s.rss_after_mib for s in taken),
                "rss_samples": min(s.samples for s in taken),
            }
        runs.append(
            Run(
                names[op],
                backend,
                1,
                Outcome(latencies=seconds, elapsed=sum(seconds)),
                None if op == "disk" else GROWTH_TARGET,
                extra,
                rate=rate,
                ratio=False,
            )
        )
    return runs


def _median(values: Iterator[float]) -> float:
    return round(statistics.median(values), 1)


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.media", description=__doc__.split("\n")[0])
    p.add_argument("--backend", choices=(*BACKENDS, "all"), default="sqlite")
    p.add_argument("--store", choices=(*STORES, "all"), default="local")
    p.add_argument("--repeats", type=int, default=3, help="rounds of every transfer (median)")
    p.add_argument("--mb", type=int, default=DEFAULT_MB, help="file size in MB (10^6 bytes)")
    p.add_argument("--json", type=Path, help="also write every figure to this JSON file")
    return p.parse_args(argv)


async def _main(args: argparse.Namespace) -> None:
    backends = BACKENDS if args.backend == "all" else (args.backend,)
    stores = STORES if args.store == "all" else (args.store,)
    rows: list[dict[str, Figure]] = []
    with tempfile.TemporaryDirectory(prefix="fleetgate-bench-media-") as tmp:
        for backend in backends:
            for store in stores:
                print(f"[{backend}] media ({store}) ...", file=sys.stderr, flush=True)
                runs = await media_bench(
                    backend,
                    Path(tmp) / f"{backend}-{store}",
                    store=store,
                    repeats=args.repeats,
                    size=args.mb * 1_000_000,
                )
                rows += [r.row(None) for r in runs]
    print("\nMachine: " + ", ".join(f"{k} {v}" for k, v in machine().items()) + "\n")
    print(table(rows, MEDIA_COLUMNS))
    if args.json is not None:
        write_json(args.json, rows, {"repeats": args.repeats, "mb": args.mb})


def main(argv: list[str] | None = None) -> None:
    try:
        asyncio.run(_main(_args(argv)))
    except RuntimeError as exc:
        sys.exit(f"bench: {exc}")


if __name__ == "__main__":
    main()
