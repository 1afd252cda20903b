"""Throwaway databases for one benchmark run: a SQLite file or a fresh PostgreSQL database."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg
from sqlalchemy.engine import URL, make_url

BACKENDS = ("sqlite", "postgres")
DEFAULT_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"


def admin_pg_url() -> str:
    """The PostgreSQL server to create bench databases on (any existing database of it)."""
    return (
        os.environ.get("FLEETGATE_BENCH_POSTGRES_URL")
        or os.environ.get("FLEETGATE_TEST_POSTGRES_URL")
        or DEFAULT_PG_URL
    )


async def _admin_connect(url: URL) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            timeout=5,
        )
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        raise RuntimeError(
            f"PostgreSQL not reachable at {url.host}:{url.port} ({exc}); "
            "set FLEETGATE_BENCH_POSTGRES_URL or run with --backend sqlite"
        ) from exc


def pg_settings() -> dict[str, str]:
    """PostgreSQL settings for the bench databases, from ``FLEETGATE_BENCH_PG_SETTINGS``
    (``name=value,name=value``), e.g. ``plan_cache_mode=force_custom_plan``; for experiments."""
    raw = os.environ.get("FLEETGATE_BENCH_PG_SETTINGS", "")
    pairs = (item.split("=", 1) for item in raw.split(",") if "=" in item)
    return {name.strip(): value.strip() for name, value in pairs}


@asynccontextmanager
async def database(backend: str, work_dir: Path) -> AsyncIterator[str]:
    """The URL of an empty database of this backend, removed again when the block ends."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{(work_dir / 'fleetgate.db').resolve()}"
        return
    if backend != "postgres":
        raise ValueError(f"unknown backend {backend!r}")
    admin = make_url(admin_pg_url())
    name = f"fleetgate_bench_{os.getpid()}_{secrets.token_hex(4)}"
    conn = await _admin_connect(admin)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
        for setting, value in pg_settings().items():
            # Every later session on the database starts with it (the server's too).
            await conn.execute(f'ALTER DATABASE "{name}" SET {setting} = {_literal(value)}')
    finally:
        await conn.close()
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        conn = await _admin_connect(admin)
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
