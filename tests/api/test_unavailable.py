"""Which database errors are outages (503) and which are bugs (they stay 500s)."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy import exc as sa

from fleetgate.api.unavailable import is_unavailable
from fleetgate.storage.db import DatabaseBusy


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
