"""Files and media: storing what is uploaded or fetched, download links, and the sweep.

A file's bytes go to the media store (storage/blobs.py) under an *object key*; a row of the
media table, under its own *key*, says which instance the file belongs to, what it is and
until when it is kept. A file is durable (bytes stored, row committed) before the message
that carries it is accepted; a crash in between leaves at most an object without a row, which
the sweep removes.

Download links are ``<public URL>/media/<idInstance>/<key>/<name>?expires=..&signature=..``:
unguessable (the key has 128 random bits), bound to the instance (it is signed into the
link) and expiring (``link_ttl_s``). A link fleetgate gave an instance may be handed back
to it as a sendFileByUrl ``urlFile``: it is then read from the store, not fetched, and
accepted while the file is kept even once the link itself has expired.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import re
import ssl
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.aio import being_cancelled
from fleetgate.clock import DAY_MS, now_ms
from fleetgate.crypto import TokenCipher
from fleetgate.domain.files import HEAD_BYTES, StoredFile, extension_of, safe_file_name, sniff
from fleetgate.errors import BodyTooLarge, InvalidInput, NotFound
from fleetgate.settings import Settings
from fleetgate.storage.blobs import BlobStore, new_key
from fleetgate.storage.db import Database
from fleetgate.storage.repos import media as repo
from fleetgate.targets import PinnedTransport, TargetPolicy, TargetRefused, pinned_to

log = logging.getLogger(__name__)

_LINK_PATH = re.compile(r"/media/(\d{1,20})/([A-Za-z0-9_-]{16,32})/[^/]*")
# An object older than this with no row naming it was left by a crash: the sweep deletes it.
ORPHAN_AGE_MS = DAY_MS
_SWEEP_BATCH = 500


class FileTooLarge(BodyTooLarge):
    """A file is larger than the configured limit."""


class FetchFailed(Exception):
    """A file named by URL could not be fetched; the text says why (shown to the partner)."""


class Media:
    """Stores files, makes and checks their links, fetches files named by URL, sweeps."""

    def __init__(self, db: Database, blobs: BlobStore, cipher: TokenCipher, settings: Settings):
        self.db = db
        self.blobs = blobs
        self._cipher = cipher
        self._base = settings.public_url()
        media = settings.media
        self.max_bytes = media.max_file_bytes
        self._link_ttl_s = media.link_ttl_s
        self._retention_ms = int(media.retention_days * DAY_MS)
        self._fetch_timeout_s = media.fetch_timeout_s
        self.orphan_age_ms = ORPHAN_AGE_MS
        delivery = settings.delivery
        self._targets = TargetPolicy(
            allow_loopback=delivery.allow_loopback, allow_private=delivery.allow_private
        )

    # Storing

    async def store(
        self,
        chunks: AsyncIterable[bytes],
        *,
        id_instance: int | None,
        file_name: str,
    ) -> StoredFile:
        """Stream ``chunks`` into the store and record the file (committed on return).
        FileTooLarge past the size limit, and then nothing is kept."""
        object_key = new_key()
        counted = _Counted(chunks, self.max_bytes)
        await self.blobs.put(object_key, counted)
        mime = sniff(counted.head, file_name)
        name = safe_file_name(file_name, fallback=f"{object_key}.{extension_of(mime)}")
        file = StoredFile(object_key, counted.size, counted.sha256.hexdigest(), mime, name)
        try:
            await self.keep(file, id_instance=id_instance, key=object_key)
        except BaseException:
            await self.blobs.delete([object_key])
            raise
        return file

    async def keep(self, file: StoredFile, *, id_instance: int | None, key: str) -> None:
        """Record (commit) a file row ``key`` for an object already stored (``file.key``)."""
        async with self.db.transaction() as session:
            await self.add_row(session, file, id_instance=id_instance, key=key)

    async def add_row(
        self, session: AsyncSession, file: StoredFile, *, id_instance: int | None, key: str
    ) -> None:
        """A file row ``key`` for the stored object ``file.key``, in the caller's transaction."""
        now = now_ms()
        await repo.add(
            session,
            replace(file, key=key),
            id_instance=id_instance,
            object_key=file.key,
            created_ms=now,
            expires_ms=now + self._retention_ms,
        )

    async def forget(self, file: StoredFile) -> None:
        """Delete a file stored moments ago for a request that then failed (its row key and
        object key are the same): the request changes nothing."""
        async with self.db.transaction() as session:
            await repo.remove(session, [file.key])
        await self.blobs.delete([file.key])

    async def find(self, key: str) -> tuple[StoredFile, int | None] | None:
        """A kept file by its row key: the file (``key`` = its object's key) and its owner."""
        async with self.db.reading() as session:
            found = await repo.find(session, key, now_ms=now_ms())
        if found is None:
            return None
        file, id_instance, object_key = found
        return replace(file, key=object_key), id_instance

    # Links

    def link(self, id_instance: int | None, key: str, file_name: str) -> str:
        """A download link to the file row ``key`` of this instance (None: a sandbox phone's)."""
        owner = id_instance or 0
        expires = now_ms() // 1000 + self._link_ttl_s
        signature = self._cipher.sign_link(f"{owner}/{key}/{expires}")
        name = quote(file_name, safe="") or "file"
        return f"{self._base}/media/{owner}/{key}/{name}?expires={expires}&signature={signature}"

    def own_key(self, url: str, id_instance: int) -> str | None:
        """The file row key of a link fleetgate gave this instance (expired or not); None for
        any other URL. InvalidInput for a link fleetgate gave another instance."""
        parts = urlsplit(url)
        match = _LINK_PATH.fullmatch(parts.path)
        query = parse_qs(parts.query)
        if match is None or not {"expires", "signature"} <= query.keys():
            return None
        owner, key = int(match[1]), match[2]
        text = f"{owner}/{key}/{query['expires'][0]}"
        if not self._cipher.link_signed(text, query["signature"][0]):
            return None
        if owner != id_instance:
            raise InvalidInput("urlFile is a link to a file of another instance")
        return key

    async def linked(self, owner: int, key: str, expires: str, signature: str) -> StoredFile:
        """The file a download link names (``key`` of the result: its object's). NotFound for
        a wrong, expired or forged link, or a file no longer kept."""
        if not (expires.isdigit() and len(expires) <= 12):
            raise NotFound("no such file")
        if not self._cipher.link_signed(f"{owner}/{key}/{expires}", signature):
            raise NotFound("no such file")
        if int(expires) < now_ms() // 1000:
            raise NotFound("this link has expired; ask for a new one with downloadFile")
        found = await self.find(key)
        if found is None or (found[1] or 0) != owner:
            raise NotFound("this file is no longer kept")
        return found[0]

    def with_link(self, data: dict[str, Any], id_instance: int | None, key: str) -> dict[str, Any]:
        """Message data whose fileMessageData has a fresh download link to file row ``key``."""
        file_data = data.get("fileMessageData")
        if not isinstance(file_data, dict):
            return data
        name = str(file_data.get("fileName") or "file")
        link = self.link(id_instance, key, name)
        return data | {"fileMessageData": file_data | {"downloadUrl": link}}

    # Fetching (sendFileByUrl)

    async def fetch(self, url: str, *, id_instance: int, file_name: str) -> StoredFile:
        """Download ``url`` into the store as the webhook policy allows (no loopback or
        private address unless allowed; no redirects), bounded in size and time."""
        try:
            target = await self._targets.check(url)
        except TargetRefused as exc:
            raise FetchFailed(f"urlFile cannot be fetched: {_refusal(exc)}") from None
        transport = PinnedTransport(httpx.Limits(max_connections=1), _ssl_context())
        try:
            async with (
                asyncio.timeout(self._fetch_timeout_s),
                httpx.AsyncClient(transport=transport, trust_env=False) as client,
            ):
                with pinned_to(target):
                    async with client.stream("GET", target.url) as response:
                        _check_answer(response, self.max_bytes)
                        return await self.store(
                            response.aiter_bytes(),
                            id_instance=id_instance,
                            file_name=file_name,
                        )
        except FileTooLarge:
            raise FetchFailed(
                f"urlFile is larger than the limit of {self.max_bytes} bytes"
            ) from None
        except TimeoutError:
            raise FetchFailed(
                f"urlFile was not downloaded within {self._fetch_timeout_s:g} s"
            ) from None
        except (httpx.HTTPError, OSError) as exc:
            raise FetchFailed(f"urlFile cannot be fetched: {type(exc).__name__}") from None

    # Sweeping

    async def sweep_forever(self, interval_s: float) -> None:
        """Sweep now and then every ``interval_s`` until cancelled; a failed sweep is logged
        and tried again next time."""
        while True:
            try:
                removed = await self.sweep()
                if removed:
                    log.info("deleted %d expired files", removed)
            except Exception:
                if being_cancelled():
                    raise
                log.exception("the media sweep failed; trying again in %g s", interval_s)
            await asyncio.sleep(interval_s)

    async def sweep(self) -> int:
        """Delete expired files, and objects without a row older than a day; how many rows."""
        removed = 0
        while True:
            async with self.db.transaction() as session:
                batch = await repo.expired(session, now_ms(), limit=_SWEEP_BATCH)
                if not batch:
                    break
                await repo.remove(session, [key for key, _ in batch])
                objects = sorted({obj for _, obj in batch})
                used = await repo.objects_in_use(session, objects)
                unused = [o for o in objects if o not in used]
            await self.blobs.delete(unused)
            removed += len(batch)
        await self._sweep_orphans()
        return removed

    async def _sweep_orphans(self) -> None:
        old = await self.blobs.keys_older_than((now_ms() - self.orphan_age_ms) / 1000)
        for start in range(0, len(old), _SWEEP_BATCH):
            chunk = old[start : start + _SWEEP_BATCH]
            async with self.db.reading() as session:
                used = await repo.objects_in_use(session, chunk)
            orphans = [o for o in chunk if o not in used]
            if orphans:
                log.info("deleting %d stored objects no file names", len(orphans))
                await self.blobs.delete(orphans)


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    return httpx.create_ssl_context(trust_env=False)


class _Counted:
    """Passes chunks through, counting, hashing and keeping the first bytes; FileTooLarge
    (which aborts the store's upload) past ``limit``."""

    def __init__(self, chunks: AsyncIterable[bytes], limit: int) -> None:
        self._chunks = chunks
        self._limit = limit
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.head = b""

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._pass()

    async def _pass(self) -> AsyncIterator[bytes]:
        async for chunk in self._chunks:
            if not chunk:
                continue
            self.size += len(chunk)
            if self.size > self._limit:
                raise FileTooLarge(f"file is larger than the limit of {self._limit} bytes")
            if len(self.head) < HEAD_BYTES:
                self.head += chunk[: HEAD_BYTES - len(self.head)]
            self.sha256.update(chunk)
            yield chunk


def _check_answer(response: httpx.Response, limit: int) -> None:
    if response.is_redirect:
        raise FetchFailed("urlFile answered with a redirect; give the file's own URL")
    if response.status_code != 200:
        raise FetchFailed(f"urlFile answered HTTP {response.status_code}")
    length = response.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit:
        raise FetchFailed(f"urlFile is larger than the limit of {limit} bytes")


def _refusal(exc: TargetRefused) -> str:
    return str(exc).replace("webhook URL", "the URL").replace("webhook target", "address")
