"""Migrations: `upgrade head` yields exactly the models' schema, and they round-trip."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect

from fleetgate.storage.db import Database, alembic_config
from fleetgate.storage.tables import Base


def _diff(conn: Connection) -> list[object]:
    ctx = MigrationContext.configure(conn, opts={"compare_type": True})
    return list(compare_metadata(ctx, Base.metadata))


def _tables(conn: Connection) -> set[str]:
    return set(inspect(conn).get_table_names())


async def _check(db: Database) -> None:
    await db.migrate()
    await db.migrate()  # a second start finds nothing to do
    async with db.engine.begin() as conn:
        assert await conn.run_sync(_diff) == []
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        assert await conn.run_sync(_tables) == {"alembic_version"}
    await db.migrate()
    async with db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []


async def test_upgrade_head_matches_models_and_round_trips(fresh_database_url: str) -> None:
    db = Database(fresh_database_url)
    try:
        await _check(db)
    finally:
        await db.dispose()
