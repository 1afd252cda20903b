"""Column types that behave the same on SQLite and PostgreSQL.

Times are UTC epoch milliseconds in a BIGINT: portable, cheap to compare and index, fast to
read in bulk (no per-row string parsing on SQLite), and what the Z-API wire uses anyway.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, LargeBinary, String
from sqlalchemy.types import TypeEngine

EpochMs: type[TypeEngine[int]] = BigInteger
Flag: type[TypeEngine[bool]] = Boolean
Blob: type[TypeEngine[bytes]] = LargeBinary


def text(length: int) -> String:
    """A bounded string column (VARCHAR(length) on PostgreSQL)."""
    return String(length)
