"""The media store's two backends on their own: a large file goes up in parts, comes back whole
and by range, and an upload that fails part-way leaves nothing behind (no object, no temporary
file, no unfinished S3 multipart upload)."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from fleetgate.settings import MediaSettings
from fleetgate.storage.blobs import PART_BYTES, BlobStore
from tests.media.s3 import S3Server

# More than two parts, so S3 takes it as a multipart upload.
LARGE = 2 * PART_BYTES + 12345


class Broken(Exception):
    """The upload's source failed."""


async def chunks(total: int, *, fail: bool = False) -> AsyncIterator[bytes]:
    block = 1024 * 1024
    for start in range(0, total, block):
        yield bytes([start // block % 251]) * min(block, total - start)
    if fail:
        raise Broken


def expected(total: int) -> str:
    block = 1024 * 1024
    digest = hashlib.sha256()
    for start in range(0, total, block):
        digest.update(bytes([start // block % 251]) * min(block, total - start))
    return digest.hexdigest()


@pytest.fixture(params=["local", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[BlobStore, object]:
    """A store of each backend, and what to look in for leftovers (a folder, or a bucket)."""
    if request.param == "local":
        return BlobStore.from_settings(MediaSettings(), tmp_path), tmp_path / "media"
    s3: S3Server = request.getfixturevalue("s3_server")
    bucket = s3.new_bucket()
    settings = MediaSettings(**s3.media_settings(bucket))  # type: ignore[arg-type]
    return BlobStore.from_settings(settings, tmp_path), (s3, bucket)


def leftovers(where: object) -> list[str]:
    """Objects or files left in the store, and for S3 unfinished multipart uploads too."""
    if isinstance(where, Path):
        return [str(p) for p in where.rglob("*") if p.is_file()]
    s3, bucket = where  # type: ignore[misc]
    r = httpx.get(f"{s3.url}/{bucket}", params={"uploads": ""}, timeout=10)
    assert r.status_code == 200, r.text
    uploads = [e.text or "" for e in ET.fromstring(r.content).iter() if e.tag.endswith("UploadId")]
    return s3.keys(bucket) + [f"upload {u}" for u in uploads]


async def test_a_large_file_round_trips(store: tuple[BlobStore, object]) -> None:
    blobs, where = store
    await blobs.put("big", chunks(LARGE))
    assert await blobs.size("big") == LARGE
    assert hashlib.sha256(await blobs.read_all("big")).hexdigest() == expected(LARGE)
    part = await blobs.read("big", start=PART_BYTES - 10, end=PART_BYTES + 10)
    assert (part.size, part.start, part.end) == (LARGE, PART_BYTES - 10, PART_BYTES + 10)
    body = b"".join([c async for c in part.chunks])
    assert body == bytes([4]) * 10 + bytes([5]) * 10  # the 1 MiB blocks on either side
    await blobs.delete(["big", "never-there"])
    assert leftovers(where) == []


async def test_a_failed_upload_leaves_nothing(store: tuple[BlobStore, object]) -> None:
    blobs, where = store
    with pytest.raises(Broken):
        await blobs.put("broken", chunks(LARGE, fail=True))
    assert await blobs.size("broken") is None
    assert leftovers(where) == []
