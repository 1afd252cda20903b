"""Searching a partner's instances by name or id, backed by a trigram index on both databases.

Each instance keeps a search key: its case-folded name, a newline, its id. A query matches
when it occurs anywhere in the key (so any part of the name, or of the id).

- SQLite: an FTS5 table with the trigram tokenizer over the key, kept in step by triggers.
- PostgreSQL: a pg_trgm GIN index on the key, when the extension could be created.

A trigram needs three characters: shorter queries (which match a lot anyway) scan the partner's
instances. The index and the FTS table are made by migration 0006; they are not in the ORM
metadata, so the schema comparison skips them (``is_search_object``).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, column, select, table
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.tables import InstanceRow

FTS_TABLE = "instance_search"
TRGM_INDEX = "ix_instances_search_key_trgm"
MIN_INDEXED = 3
NAME_KEY_MAX = 255

_fts = table(FTS_TABLE, column("rowid"), column("search_key"))


def search_key(name: str, id_instance: int) -> str:
    """What a query is matched against: the folded name and the id, a newline apart."""
    return f"{name.casefold()[:NAME_KEY_MAX]}\n{id_instance}"


def is_search_object(name: str | None) -> bool:
    """Whether a schema object belongs to the search index (not to the ORM metadata)."""
    return name is not None and (name == TRGM_INDEX or name.startswith(FTS_TABLE))


def contains(query: str) -> ColumnElement[bool]:
    """Instances whose search key contains ``query`` (which holds no control characters).

    On PostgreSQL the trigram index serves this directly; on SQLite it scans, unless the ids
    are first narrowed down with :func:`fts_hits`.
    """
    escaped = query.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return InstanceRow.search_key.like(f"%{escaped}%", escape="\\")


async def fts_hits(session: AsyncSession, query: str, *, limit: int) -> list[int] | None:
    """SQLite: the ids (of any partner) whose key may contain ``query``, from the trigram
    index; None when that cannot narrow the search (no index here, a query too short, or more
    than ``limit`` hits, where a plain scan is faster)."""
    folded = query.casefold()
    if session.get_bind().dialect.name != "sqlite" or len(folded) < MIN_INDEXED:
        return None
    phrase = '"' + folded.replace('"', '""') + '"'
    stmt = select(_fts.c.rowid).where(_fts.c.search_key.op("MATCH")(phrase)).limit(limit + 1)
    hits = list(await session.scalars(stmt))
    return hits if len(hits) <= limit else None
