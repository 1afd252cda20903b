"""The media service on each database: streaming into the store, links, the sweep."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.services.media import FileTooLarge, Media
from fleetgate.storage.blobs import BlobStore, new_key
from fleetgate.storage.tables import MediaRow

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40


async def _chunks(data: bytes, size: int = 1000) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _media(ctx: Context, folder: Path, **media: object) -> Media:
    settings = ctx.settings.model_copy(
        update={"media": ctx.settings.media.model_copy(update=media)}
    )
    return Media(ctx.db, BlobStore.from_settings(settings.media, folder), ctx.cipher, settings)


async def _rows(ctx: Context, key: str) -> int:
    async with ctx.db.reading() as session:
        stmt = select(func.count()).select_from(MediaRow).where(MediaRow.object_key == key)
        return int(await session.scalar(stmt) or 0)


def _objects(folder: Path) -> list[str]:
    return sorted(p.name for p in (folder / "media").iterdir())


async def test_a_stored_file_is_recorded_with_its_kind_size_and_digest(
    ctx: Context, tmp_path: Path
) -> None:
    media = _media(ctx, tmp_path)
    file = await media.store(_chunks(PNG), id_instance=7, file_name="../x/holiday.jpg")
    assert (file.size, file.mime_type, file.file_name) == (len(PNG), "image/png", "holiday.jpg")
    assert file.sha256 == hashlib.sha256(PNG).hexdigest()
    assert await media.blobs.read_all(file.key) == PNG
    found = await media.find(file.key)
    assert found is not None and found == (file, 7)


async def test_an_unnamed_file_gets_a_name_from_its_kind(ctx: Context, tmp_path: Path) -> None:
    file = await _media(ctx, tmp_path).store(_chunks(PNG), id_instance=1, file_name="")
    assert file.file_name == f"{file.key}.png"


async def test_a_file_over_the_limit_leaves_nothing(ctx: Context, tmp_path: Path) -> None:
    media = _media(ctx, tmp_path, max_file_bytes=len(PNG) - 1)
    before = _objects(tmp_path)
    with pytest.raises(FileTooLarge):
        await media.store(_chunks(PNG), id_instance=1, file_name="big.png")
    assert _objects(tmp_path) == before


async def test_links_are_signed_bound_to_their_instance_and_expire(
    ctx: Context, tmp_path: Path
) -> None:
    media = _media(ctx, tmp_path)
    file = await media.store(_chunks(PNG), id_instance=42, file_name="a.png")
    link = media.link(42, file.key, file.file_name)
    assert media.own_key(link, 42) == file.key
    with pytest.raises(InvalidInput):
        media.own_key(link, 43)  # another instance's file
    assert media.own_key(link.replace("signature=", "signature=0"), 42) is None
    assert media.own_key("https://example.com/media/42/x/a.png", 42) is None
    expires = str(now_ms() // 1000 - 10)
    old = ctx.cipher.sign_link(f"42/{file.key}/{expires}")
    # An expired link still names the file to its own instance (sendFileByUrl) ...
    assert media.own_key(
        f"http://h/media/42/{file.key}/a.png?expires={expires}&signature={old}", 42
    )
    # ... but no longer downloads it.
    with pytest.raises(NotFound, match="expired"):
        await media.linked(42, file.key, expires, old)
    with pytest.raises(NotFound):
        await media.linked(43, file.key, expires, old)
    fresh = str(now_ms() // 1000 + 60)
    assert await media.linked(42, file.key, fresh, ctx.cipher.sign_link(f"42/{file.key}/{fresh}"))


async def test_the_sweep_deletes_expired_files_and_objects_nothing_names(
    ctx: Context, tmp_path: Path
) -> None:
    keep = _media(ctx, tmp_path)
    expire = _media(ctx, tmp_path, retention_days=1e-12)
    kept = await keep.store(_chunks(PNG), id_instance=1, file_name="kept.png")
    gone = await expire.store(_chunks(PNG), id_instance=1, file_name="gone.png")
    # One object named by two rows (a sandbox phone's file received by an instance): it goes
    # only with the last of them.
    shared = await expire.store(_chunks(PNG), id_instance=None, file_name="shared.png")
    await keep.keep(shared, id_instance=2, key=new_key())
    orphan = new_key()
    await keep.blobs.put(orphan, _chunks(b"left by a crash"))
    keep.orphan_age_ms = 0
    assert await keep.sweep() >= 2
    assert await keep.blobs.size(gone.key) is None
    assert await _rows(ctx, gone.key) == 0
    assert await keep.blobs.size(kept.key) == len(PNG)
    assert await keep.blobs.size(shared.key) == len(PNG)
    assert await _rows(ctx, shared.key) == 1
    assert await keep.blobs.size(orphan) is None
