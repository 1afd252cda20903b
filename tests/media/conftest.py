"""Fixtures of the media tests: a live server per database backend and media backend."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.storage.tables import MediaRow
from tests.media.s3 import S3Server, moto_server
from tests.support import BACKENDS, Instance, LiveServer, fresh_server

MEDIA_BACKENDS = ("local", "s3")
# Small enough that "over the limit" is a cheap upload; larger than every file the tests send.
MAX_FILE_BYTES = 256 * 1024


@dataclass
class MediaServer:
    """A live server, a test-side context on its database and store, and where its files go."""

    server: LiveServer
    ctx: Context
    database: str
    backend: str
    s3: S3Server | None = None
    bucket: str = ""

    @property
    def url(self) -> str:
        return self.server.url

    async def objects(self) -> list[str]:
        """Every object in the media store (files in data_dir/media, or keys in the bucket)."""
        if self.s3 is not None:
            return self.s3.keys(self.bucket)
        folder: Path = self.server.settings.data_dir / "media"
        return [str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()]

    async def rows(self) -> int:
        """How many rows the media table holds."""
        async with self.ctx.db.reading() as session:
            return int(await session.scalar(select(func.count()).select_from(MediaRow)) or 0)

    async def new_partner(self) -> str:
        async with self.ctx.db.transaction() as session:
            _, token = await partners.create_partner(session=session, name=secrets.token_hex(8))
        return token

    async def new_instance(self, client: httpx.AsyncClient, **settings: object) -> Instance:
        """An instance of a new partner, with these settings."""
        token = await self.new_partner()
        r = await client.post(f"/partner/createInstance/{token}", json=settings)
        assert r.status_code == 200, r.text
        body = r.json()
        return Instance(body["idInstance"], body["apiTokenInstance"], token)


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3-compatible server on 127.0.0.1, started only when an s3 variant runs."""
    with moto_server() as server:
        yield server


@pytest.fixture(
    scope="module",
    params=[(db, media) for db in BACKENDS for media in MEDIA_BACKENDS],
    ids=lambda p: f"{p[0]}-{p[1]}",
)
async def media_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[MediaServer]:
    """A live server on each database backend with each media backend, chosen by settings
    only; rate limits off, loopback allowed for webhooks and for files fetched by URL."""
    database, backend = request.param
    media: dict[str, object] = {"max_file_bytes": MAX_FILE_BYTES}
    s3: S3Server | None = None
    bucket = ""
    if backend == "s3":
        s3 = request.getfixturevalue("s3_server")
        bucket = s3.new_bucket()
        media |= s3.media_settings(bucket)
    folder = tmp_path_factory.mktemp(f"media-{database}-{backend}")
    async with fresh_server(database, folder, ratelimits={"enabled": False}, media=media) as server:
        ctx = Context.from_settings(server.settings)
        try:
            yield MediaServer(server, ctx, database, backend, s3, bucket)
        finally:
            await ctx.db.dispose()


@pytest.fixture
async def media_client(media_server: MediaServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=media_server.url, timeout=30) as c:
        yield c
