"""Engine, sessions and migrations for SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncpg
from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, event, text
from sqlalchemy import exc as sa
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from fleetgate.files import private_dir, private_file

if TYPE_CHECKING:
    from fleetgate.crypto import TokenCipher

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Any constant works; it only has to be the same for every fleetgate process.
_MIGRATION_LOCK_KEY = 0x666C656574
# A SQLite writer waits at most this long for its turn among this process's writers, then as
# long again for another process's write lock; past that it fails and the API answers 503.
BUSY_TIMEOUT_S = 5.0


class DatabaseBusy(TimeoutError):
    """A SQLite writer did not get its turn within BUSY_TIMEOUT_S."""


# The base of the errors the drivers raise through SQLAlchemy.
DriverError = sa.DBAPIError
# Raised as they are (not wrapped by SQLAlchemy) or always meaning "not reachable now".
UNAVAILABLE_ERRORS: tuple[type[BaseException], ...] = (
    sa.OperationalError,  # SQLite "database is locked", "unable to open database file"
    sa.InterfaceError,
    sa.TimeoutError,  # no pooled connection free in time
    sa.DisconnectionError,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.OperatorInterventionError,  # shutting down, starting up
    asyncpg.exceptions.InsufficientResourcesError,  # too many connections, disk full
    OSError,  # connection refused or reset while connecting
    TimeoutError,  # connecting took too long; DatabaseBusy
)
# SQLSTATE classes of a wrapped driver error that mean the server is going or gone.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57P")


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database cannot be used right now (rather than a bug)."""
    if isinstance(exc, UNAVAILABLE_ERRORS) or _closed_to_connections(exc):
        return True
    if isinstance(exc, sa.DBAPIError):
        sqlstate = str(getattr(exc.orig, "sqlstate", "") or "")
        return (
            exc.connection_invalidated
            or sqlstate.startswith(_UNAVAILABLE_SQLSTATES)
            or _closed_to_connections(exc.orig)
        )
    return False


def is_busy(exc: BaseException) -> bool:
    """Whether ``exc`` is a SQLite writer that waited too long for its turn or the lock."""
    return isinstance(exc, DatabaseBusy) or (
        isinstance(exc, sa.OperationalError) and "locked" in str(exc.orig)
    )


def _closed_to_connections(exc: BaseException | None) -> bool:
    """A database an operator closed (``ALTER DATABASE … ALLOW_CONNECTIONS false``): SQLSTATE
    55000, a class that otherwise means a bug, so only with this message."""
    return isinstance(exc, asyncpg.exceptions.ObjectNotInPrerequisiteStateError) and (
        "accepting connections" in str(exc)
    )


class Database:
    """One database: an async engine plus the ways fleetgate opens transactions on it."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 20,
        cipher: TokenCipher | None = None,
    ) -> None:
        self.url = make_url(url)
        # The server keys, for migrations that encrypt what was stored in clear.
        self.cipher = cipher
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            _prepare_sqlite_files(self.url.database)
            kwargs["connect_args"] = {"timeout": BUSY_TIMEOUT_S}
        else:
            kwargs.update(pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)
            # asyncpg prepares every statement; after five runs PostgreSQL may switch to a
            # generic plan, which for the outbox claim scans everything (seconds, not ms).
            kwargs["connect_args"] = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        if self.is_sqlite:
            _configure_sqlite(self.engine)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._writer = asyncio.Lock() if self.is_sqlite else None

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction: committed when the block ends, rolled back on error.

        On SQLite the writers of this process take turns on an asyncio lock, which is far
        cheaper than queueing in SQLite's busy handler (its sleeps grow to 100 ms). Never open
        a write transaction inside another one.
        """
        async with self._write_turn(), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def _write_turn(self) -> AsyncIterator[None]:
        """This process's turn to write on SQLite, waited for at most BUSY_TIMEOUT_S."""
        if self._writer is None:
            yield
            return
        try:
            async with asyncio.timeout(BUSY_TIMEOUT_S):
                await self._writer.acquire()
        except TimeoutError:
            raise DatabaseBusy(f"no turn to write within {BUSY_TIMEOUT_S:g} s") from None
        try:
            yield
        finally:
            self._writer.release()

    @asynccontextmanager
    async def reading(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction (on SQLite it takes no write lock)."""
        async with self._sessions() as session:
            await session.connection(execution_options={"fleetgate_read_only": True})
            try:
                yield session
            finally:
                await session.rollback()

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.engine.connect() as conn:
            await conn.execution_options(fleetgate_read_only=True)
            await conn.execute(text("SELECT 1"))

    async def migrate(self) -> None:
        """Bring the schema to the newest migration (safe with many processes starting at once)."""
        async with self.engine.begin() as conn:
            if not self.is_sqlite:
                await conn.execute(
                    text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK_KEY}
                )
            await conn.run_sync(_upgrade_head, self.cipher)

    async def dispose(self) -> None:
        """Close every pooled connection."""
        await self.engine.dispose()


def alembic_config(
    connection: Connection | None = None, cipher: TokenCipher | None = None
) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["connection"] = connection
    cfg.attributes["cipher"] = cipher
    return cfg


def _upgrade_head(connection: Connection, cipher: TokenCipher | None) -> None:
    command.upgrade(alembic_config(connection, cipher), "head")


def _prepare_sqlite_files(database: str | None) -> None:
    """The database's folder, and the file itself made 0600 before SQLite opens it.

    SQLite creates its -wal and -shm files with the mode of the database file, so those are
    private too; files an older fleetgate left readable by others are made private here.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    path = Path(database).expanduser().resolve()
    private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        private_file(path.with_name(path.name + suffix), create=False)


def _configure_sqlite(engine: AsyncEngine) -> None:
    """WAL, a busy timeout, and BEGIN IMMEDIATE for writers.

    pysqlite's own deferred BEGIN lets two writers both start reading and then deadlock on the
    upgrade to a write lock (SQLITE_BUSY at once, busy_timeout does not help). Taking the write
    lock at BEGIN makes writers queue on busy_timeout instead; readers still BEGIN DEFERRED.
    """
    # aiosqlite logs every statement with its parameters at DEBUG (webhookUrlToken among
    # them): it stays at INFO whatever the root level is (docs/security.md).
    logging.getLogger("aiosqlite").setLevel(logging.INFO)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
        _enable_wal(cur)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        read_only = conn.get_execution_options().get("fleetgate_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")


def _enable_wal(cur: Any) -> None:
    """Switch to WAL. Two processes opening a new database file at once can make this fail
    with "database is locked" without waiting on busy_timeout, so it is retried."""
    for attempt in range(100):
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            return
        except Exception as exc:
            if "locked" not in str(exc) or attempt == 99:
                raise
            time.sleep(0.05)
