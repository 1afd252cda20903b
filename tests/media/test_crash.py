"""SIGKILL of the server in the middle of an upload: nothing half-stored is ever shown, and the
sweep removes what the killed upload left on disk."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
from sqlalchemy import func, select

from fleetgate.context import Context
from fleetgate.settings import Settings
from fleetgate.storage.tables import MediaRow
from tests.processes import Cli
from tests.support import until

CHUNK = b"\x89PNG\r\n\x1a\n" + b"\x00" * (1024 * 1024 - 8)


def _slow_body(stop: threading.Event) -> Iterator[bytes]:
    """1 MiB at a time until told to stop (the server is killed first)."""
    while not stop.wait(0.02):
        yield CHUNK


def _upload(url: str, stop: threading.Event, outcome: list[object]) -> None:
    try:
        r = httpx.post(
            url,
            content=_slow_body(stop),
            headers={"Content-Type": "image/png", "GA-Filename": "big.png"},
            timeout=60,
        )
        outcome.append(r.status_code)
    except httpx.HTTPError as exc:
        outcome.append(exc)


def _parts(media: Path) -> list[Path]:
    return [p for p in media.iterdir() if "#" in p.name] if media.exists() else []


async def _rows(settings: Settings) -> int:
    ctx = Context.from_settings(settings)
    try:
        async with ctx.db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(MediaRow)) or 0)
    finally:
        await ctx.db.dispose()


async def test_a_killed_upload_leaves_no_file_and_the_sweep_clears_its_part(cli: Cli) -> None:
    partner = cli.create("media-crash")
    media = cli.data_dir / "media"
    stop = threading.Event()
    outcome: list[object] = []
    with cli.serve("before") as first:
        r = first.post(f"/partner/createInstance/{partner}", json={})
        inst = r.json()
        url = f"{first.url}/waInstance{inst['idInstance']}/uploadFile/{inst['apiTokenInstance']}"
        sender = threading.Thread(target=_upload, args=(url, stop, outcome), daemon=True)
        sender.start()

        async def partly_written() -> bool:
            return any(p.stat().st_size > 6 * len(CHUNK) for p in _parts(media))

        try:
            await until(partly_written, "the upload is partly on disk", timeout=30)
            first.proc.send_signal(signal.SIGKILL)
            first.proc.wait(timeout=10)
        finally:
            stop.set()
            sender.join(timeout=30)
    assert outcome and not isinstance(outcome[0], int), outcome  # the upload was cut off
    settings = Settings(data_dir=cli.data_dir, database_url=cli.env.get("FLEETGATE_DATABASE_URL"))
    assert await _rows(settings) == 0  # no file row: nothing half-stored can be named
    assert _parts(media)  # what the killed process was writing is still on disk

    with cli.serve("after") as second:
        ok = second.post(
            f"/waInstance{inst['idInstance']}/uploadFile/{inst['apiTokenInstance']}",
            content=CHUNK,
            headers={"Content-Type": "image/png"},
        )
        assert ok.status_code == 200, ok.text
        assert second.get(ok.json()["urlFile"].removeprefix(second.url)).content == CHUNK
    ctx = Context.from_settings(settings)
    try:
        ctx.media.orphan_age_ms = 0  # the part is fresh; the real sweep waits a day
        await ctx.media.sweep()
    finally:
        await ctx.db.dispose()
    assert _parts(media) == []
    assert await _rows(settings) == 1  # the completed upload is untouched
