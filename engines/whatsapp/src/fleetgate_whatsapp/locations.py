"""Where each instance's device store is, as the engine tells its workers.

One PostgreSQL schema for every device, or a SQLite file per instance. The workers' client
library opens the store itself (whatsmeow through lib/pq or SQLite), from a DSN string the
engine hands over with each ``open``. On PostgreSQL that DSN is derived from fleetgate's own
database URL, so any runner host reaches every device (a lease take-over resumes a session
elsewhere); on SQLite each instance gets a file of its own in the data dir, since several
connection pools on one SQLite file end in SQLITE_BUSY.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import quote, urlencode

from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from fleetgate.settings import Settings
from fleetgate.storage.db import Database

# lib/pq knows only these (and fails on others, "prefer" included); asyncpg's ``ssl`` takes
# more, and booleans.
_PQ_SSLMODES = ("disable", "require", "verify-ca", "verify-full")
_SSL_ALIASES = {"true": "require", "1": "require", "false": "disable", "0": "disable"}
# Query parameters lib/pq understands that are worth keeping; any other key would be sent to
# the server as a run-time parameter and could refuse the connection.
_PQ_KEEP = ("sslrootcert", "sslcert", "sslkey", "host", "connect_timeout")
# Serialises schema creation between processes starting at once (CREATE SCHEMA IF NOT EXISTS
# can still fail on the catalog's unique index when two run concurrently).
_SCHEMA_LOCK_KEY = 0x666C_7761  # "flwa"


def is_postgres(url: URL) -> bool:
    return url.get_backend_name() == "postgresql"


def postgres_dsn(database_url: str | URL, schema: str) -> str:
    """A lib/pq DSN (``postgres://...``) for the same database as SQLAlchemy's ``database_url``,
    with the device tables in ``schema`` (``search_path``) and an explicit ``sslmode``.

    lib/pq treats a DSN that does not start with ``postgres`` as a SQLite path, and defaults
    to ``sslmode=require``, which a server without TLS refuses: both are set explicitly.
    """
    url = make_url(database_url)
    if not is_postgres(url):
        raise ValueError(f"not a PostgreSQL URL: {url.render_as_string(hide_password=True)}")
    auth = ""
    if url.username:
        auth = quote(url.username, safe="")
        if url.password is not None:
            auth += ":" + quote(str(url.password), safe="")
        auth += "@"
    host = url.host or ""
    if ":" in host:  # an IPv6 address
        host = f"[{host}]"
    port = f":{url.port}" if url.port else ""
    query: dict[str, str] = {"sslmode": _sslmode(url)}
    for key in _PQ_KEEP:
        value = _first(url.query.get(key))
        if value is not None:
            query[key] = value
    query["search_path"] = schema
    database = quote(url.database or "", safe="")
    return f"postgres://{auth}{host}{port}/{database}?{urlencode(query)}"


def _sslmode(url: URL) -> str:
    given = _first(url.query.get("sslmode")) or _first(url.query.get("ssl"))
    if given is None:
        return "disable"
    given = _SSL_ALIASES.get(given.lower(), given.lower())
    # allow/prefer mean "plain text is acceptable"; lib/pq has no fallback mode, so plain it is.
    return given if given in _PQ_SSLMODES else "disable"


def _first(value: str | tuple[str, ...] | None) -> str | None:
    if isinstance(value, tuple):
        return value[0] if value else None
    return value


class StoreLocations:
    """The store of each instance, and the one-time preparation they need."""

    def __init__(self, settings: Settings, schema: str, store_url: str | None = None) -> None:
        url = make_url(settings.resolved_database_url())
        self.schema = schema
        # A store of its own (PgBouncer in front of it, say): the workers prepare it.
        self.separate = store_url is not None
        if store_url is not None:
            self.shared: str | None = postgres_dsn(store_url, schema)
        else:
            self.shared = postgres_dsn(url, schema) if is_postgres(url) else None
        self.folder = (settings.data_dir / "whatsapp").resolve()
        if self.shared is None and "?" in str(self.folder):
            # The library appends its own query string to a SQLite path.
            raise ValueError(f"the data dir must not contain '?': {self.folder}")
        self._ready = False
        self._lock = asyncio.Lock()

    def dsn_for(self, id_instance: int) -> str:
        """The store DSN the workers open for this instance."""
        if self.shared is not None:
            return self.shared
        return str(self.folder / f"{id_instance}.db")

    async def prepare(self, db: Database) -> None:
        """Create the schema (PostgreSQL) or the folder (SQLite), once per engine."""
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            if self.shared is None:
                await asyncio.to_thread(_make_folder, self.folder)
            elif not self.separate:
                async with db.transaction() as session:
                    await session.execute(
                        text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY}
                    )
                    await session.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"'))
            self._ready = True


def _make_folder(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
