"""Which database errors are outages (503) and which are bugs (they stay 500s)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa
from sqlalchemy.engine import make_url

from fleetgate.storage.db import DatabaseBusy, is_unavailable
from tests.support import (
    create_pg_database,
    drop_pg_database,
    postgres_missing,
    postgres_unavailable_reason,
    postgres_url,
)


class _DriverError(Exception):
    def __init__(self, sqlstate: str) -> None:
        super().__init__(sqlstate)
        self.sqlstate = sqlstate


def _wrapped(orig: Exception, *, invalidated: bool = False) -> sa.DBAPIError:
    return sa.DBAPIError("SELECT 1", {}, orig, connection_invalidated=invalidated)


@pytest.mark.parametrize(
    "error",
    [
        sa.OperationalError("BEGIN IMMEDIATE", {}, Exception("database is locked")),
        sa.InterfaceError("SELECT 1", {}, Exception("connection is closed")),
        sa.TimeoutError("QueuePool limit reached"),
        _wrapped(Exception("connection was closed in the middle of operation"), invalidated=True),
        _wrapped(_DriverError("57P01")),  # terminating connection: administrator command
        _wrapped(_DriverError("08006")),  # connection failure
        _wrapped(_DriverError("53300")),  # too many connections
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        ConnectionRefusedError(111, "Connect call failed"),
        DatabaseBusy("no turn to write within 5 s"),
    ],
    ids=repr,
)
def test_outages_are_unavailable(error: BaseException) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        sa.IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        _wrapped(_DriverError("22003")),  # numeric value out of range
        _wrapped(_DriverError("42P01")),  # undefined table
        _wrapped(Exception("invalid byte sequence")),
        ValueError("a bug"),
        KeyError("a bug"),
    ],
    ids=repr,
)
def test_bugs_are_not_unavailable(error: BaseException) -> None:
    assert not is_unavailable(error)


async def test_a_database_closed_to_connections_is_unavailable() -> None:
    """The real error PostgreSQL gives a new connection to a database an operator closed."""
    reason = await postgres_unavailable_reason()
    if reason is not None:
        postgres_missing(reason)
    url = make_url(await create_pg_database())
    admin = make_url(postgres_url())
    conn = await asyncpg.connect(
        host=admin.host, port=admin.port, user=admin.username, database=admin.database
    )
    try:
        await conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS false')
        with pytest.raises(asyncpg.exceptions.ObjectNotInPrerequisiteStateError) as refused:
            await asyncpg.connect(
                host=url.host, port=url.port, user=url.username, database=url.database
            )
        assert is_unavailable(refused.value)
        assert is_unavailable(_wrapped(refused.value))
        # The same SQLSTATE for anything else is a bug, not an outage.
        other = asyncpg.exceptions.ObjectNotInPrerequisiteStateError("cursor is not open")
        assert not is_unavailable(other)
    finally:
        await conn.execute(f'ALTER DATABASE "{url.database}" ALLOW_CONNECTIONS true')
        await conn.close()
        await drop_pg_database(str(url.render_as_string(hide_password=False)))
