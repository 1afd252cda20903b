"""The media store's bytes: one small interface over the local disk or an S3-compatible store.

Both backends are reached through obstore, so the code above this module never knows which
one holds a file. Writes stream: a file is sent on in parts of ``PART_BYTES`` (S3 multipart
uploads; the local backend writes a temporary file it renames at the end), with at most
``PART_CONCURRENCY`` parts in flight, so a 100 MB upload holds a few parts in memory, never the
whole file. An upload that fails part-way leaves no object behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import obstore
from obstore.store import LocalStore, S3Store

from fleetgate.settings import MediaSettings

if TYPE_CHECKING:
    from obstore import BytesStream, GetOptions
    from obstore.store import ObjectStore

PART_BYTES = 5 * 1024 * 1024
PART_CONCURRENCY = 2
READ_CHUNK_BYTES = 256 * 1024


def new_key() -> str:
    """A fresh random key (128 bits, URL-safe): an object's, or a file row's. Engines that put
    received files in the store name them with it too."""
    return secrets.token_urlsafe(16)


class BlobMissing(Exception):
    """No object is stored under that key."""


@dataclass(frozen=True, slots=True)
class BlobRead:
    """An object being read: its whole size, the byte range sent, and the bytes."""

    size: int
    start: int
    end: int  # exclusive
    chunks: AsyncIterator[bytes]


class BlobStore:
    """Objects by key, in one obstore store."""

    def __init__(self, store: ObjectStore, *, describe: str, folder: Path | None = None) -> None:
        self._store = store
        self.describe = describe
        self._folder = folder  # the local backend's folder

    @classmethod
    def from_settings(cls, media: MediaSettings, data_dir: Path) -> BlobStore:
        if media.backend == "s3":
            store = S3Store(
                media.s3_bucket,
                endpoint=media.s3_endpoint or None,
                region=media.s3_region,
                access_key_id=media.s3_access_key_id or None,
                secret_access_key=media.s3_secret_access_key.get_secret_value() or None,
                virtual_hosted_style_request=False,
                client_options={"allow_http": media.s3_allow_http},
            )
            where = media.s3_endpoint or "Amazon S3"
            return cls(store, describe=f"s3 bucket {media.s3_bucket} at {where}")
        folder = (data_dir / "media").resolve()
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return cls(LocalStore(folder), describe=f"local folder {folder}", folder=folder)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> None:
        """Store the bytes ``chunks`` yields under ``key``; an exception raised by ``chunks``
        aborts the upload and leaves nothing stored."""
        await obstore.put_async(
            self._store,
            key,
            chunks,
            chunk_size=PART_BYTES,
            max_concurrency=PART_CONCURRENCY,
        )

    async def read(self, key: str, *, start: int = 0, end: int | None = None) -> BlobRead:
        """The object's bytes from ``start`` to ``end`` (exclusive; None: to its end)."""
        if self._folder is not None:
            return await _read_local(self._folder / key, start, end)
        options: GetOptions = {}
        if start or end is not None:
            options["range"] = (start, end) if end is not None else {"offset": start}
        try:
            result = await obstore.get_async(self._store, key, options=options)
        except FileNotFoundError:
            raise BlobMissing(key) from None
        first, last = result.range
        return BlobRead(
            size=result.meta["size"],
            start=first,
            end=last,
            chunks=_chunks(result.stream(min_chunk_size=READ_CHUNK_BYTES)),
        )

    async def read_all(self, key: str) -> bytes:
        """The whole object in memory (for engines whose library takes bytes)."""
        read = await self.read(key)
        return b"".join([chunk async for chunk in read.chunks])

    async def size(self, key: str) -> int | None:
        try:
            meta = await obstore.head_async(self._store, key)
        except FileNotFoundError:
            return None
        return meta["size"]

    async def delete(self, keys: list[str]) -> None:
        """Delete these objects; a key already gone is not an error."""
        for key in keys:
            try:
                await obstore.delete_async(self._store, key)
            except FileNotFoundError:
                pass

    async def keys_older_than(self, epoch_s: float) -> list[str]:
        """Keys of objects last written before ``epoch_s`` (for the orphan sweep).

        The local backend writes an object to ``<key>#<n>`` and renames it when complete; a
        process killed meanwhile leaves that part file, which no listing shows: those older
        than ``epoch_s`` are deleted here. (On S3 an interrupted multipart upload is kept
        by the bucket until its lifecycle rule aborts it: see docs/media.md.)
        """
        if self._folder is not None:
            await asyncio.to_thread(_drop_parts, self._folder, epoch_s)
        found: list[str] = []
        async for batch in obstore.list(self._store):
            for meta in batch:
                if meta["last_modified"].timestamp() < epoch_s:
                    found.append(meta["path"])
        return found


async def _chunks(stream: BytesStream) -> AsyncIterator[bytes]:
    async for chunk in stream:
        yield bytes(chunk)


def _drop_parts(folder: Path, epoch_s: float) -> None:
    for part in folder.glob("*#*"):
        with contextlib.suppress(FileNotFoundError):
            if part.stat().st_mtime < epoch_s:
                part.unlink()


async def _read_local(path: Path, start: int, end: int | None) -> BlobRead:
    """A local object read straight from its file in large reads (obstore's local store
    reads 8 KiB at a time: a third of the download rate, docs/benchmarks.md)."""
    try:
        handle = await asyncio.to_thread(path.open, "rb")
    except FileNotFoundError:
        raise BlobMissing(path.name) from None
    size = os.fstat(handle.fileno()).st_size
    first = min(start, size)
    last = size if end is None else min(end, size)
    return BlobRead(size=size, start=first, end=last, chunks=_file_chunks(handle, first, last))


async def _file_chunks(handle: BinaryIO, start: int, end: int) -> AsyncIterator[bytes]:
    try:
        await asyncio.to_thread(handle.seek, start)
        left = end - start
        while left > 0:
            chunk = await asyncio.to_thread(handle.read, min(READ_CHUNK_BYTES, left))
            if not chunk:
                return
            left -= len(chunk)
            yield chunk
    finally:
        handle.close()
