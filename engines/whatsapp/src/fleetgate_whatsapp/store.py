"""The WhatsApp library's key store: its DSN rules, and looking a device up without the library.

The library opens a store from one string. A string that starts with ``postgres`` is a
PostgreSQL DSN for lib/pq; anything else is a SQLite file path (a ``host=... dbname=...``
key=value DSN silently becomes a SQLite file of that name, so it is refused here). lib/pq
wants ``sslmode`` (its default, ``require``, fails on a server without TLS) and passes other
query parameters to the server as run-time settings: ``search_path=whatsmeow`` puts the
library's tables in a schema of their own (verified: the 17 ``whatsmeow_*`` tables land
there). :func:`library_dsn` turns fleetgate's own database URL into that form.

:func:`has_device` answers whether a device row still exists, with sqlite3 or asyncpg: the
library itself aborts the process when asked to open a device its store no longer holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import asyncpg

from fleetgate_whatsapp.client import ClientError

SCHEMA = "whatsmeow"
_PG_SCHEMES = ("postgres", "postgresql", "postgresql+asyncpg")
_DEVICE_QUERY = "SELECT 1 FROM whatsmeow_device WHERE jid = {}"
_CONNECT_TIMEOUT_S = 10.0


def is_postgres(dsn: str) -> bool:
    return urlsplit(dsn).scheme in _PG_SCHEMES


def library_dsn(dsn: str) -> str:
    """``dsn`` as the library must get it: ``postgres://...?sslmode=...&search_path=...`` (the
    two added when missing: ``disable`` and the ``whatsmeow`` schema), or a SQLite path."""
    if not is_postgres(dsn):
        if "?" in dsn or "=" in dsn:
            # The library appends "?_foreign_keys=on" to the path; a key=value DSN would
            # become a file of that name.
            raise ClientError(f"store {dsn!r} is neither a postgres:// URL nor a file path")
        return dsn
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    query.setdefault("sslmode", "disable")
    query.setdefault("search_path", SCHEMA)
    return urlunsplit(("postgres", parts.netloc, parts.path, urlencode(query), ""))


def schema_of(dsn: str) -> str | None:
    """The schema a PostgreSQL library DSN puts its tables in (first of its search_path)."""
    search_path = dict(parse_qsl(urlsplit(dsn).query)).get("search_path", "")
    first = search_path.split(",")[0].strip().strip('"')
    return first or None


def has_device(dsn: str, jid: str) -> bool:
    """Whether the store at library DSN ``dsn`` holds device ``jid`` (the exact stored text,
    ``user:device@s.whatsapp.net``); False when the store or its tables do not exist yet."""
    if is_postgres(dsn):
        return asyncio.run(_pg_has_device(dsn, jid))
    path = Path(dsn)
    if not path.exists():
        return False
    try:
        uri = f"{path.resolve().as_uri()}?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            return db.execute(_DEVICE_QUERY.format("?"), (jid,)).fetchone() is not None
    except sqlite3.OperationalError as exc:
        if "no such table" in str(exc):
            return False
        raise ClientError(f"store {dsn}: {exc}") from None


def ensure_schema(dsn: str) -> None:
    """Create the schema a PostgreSQL library DSN names, if missing (the library does not)."""
    schema = schema_of(dsn)
    if schema is not None and schema != "public":
        asyncio.run(_pg_create_schema(dsn, schema))


async def _pg_has_device(dsn: str, jid: str) -> bool:
    conn = await _pg_connect(dsn)
    try:
        row = await conn.fetchrow(_DEVICE_QUERY.format("$1"), jid)
    except asyncpg.UndefinedTableError:
        return False
    finally:
        await conn.close()
    return row is not None


async def _pg_create_schema(dsn: str, schema: str) -> None:
    conn = await _pg_connect(dsn)
    try:
        quoted = '"' + schema.replace('"', '""') + '"'
        with contextlib.suppress(asyncpg.UniqueViolationError):  # another worker won the race
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {quoted}")
    finally:
        await conn.close()


async def _pg_connect(dsn: str) -> asyncpg.Connection:
    # asyncpg reads the same DSN: sslmode itself, the other query parameters (search_path)
    # as server settings. No statement cache: its named prepared statements do not survive a
    # pooler in transaction mode (PgBouncer in front of the store), unnamed ones do.
    try:
        return await asyncpg.connect(dsn, timeout=_CONNECT_TIMEOUT_S, statement_cache_size=0)
    except (TimeoutError, OSError, asyncpg.PostgresError) as exc:
        raise ClientError(f"store unreachable: {exc}") from None
