"""Migrations: `upgrade head` yields exactly the models' schema, and they round-trip."""

from __future__ import annotations

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from fleetgate.crypto import WEBHOOK_TOKEN, TokenCipher
from fleetgate.keyring import KeyRing
from fleetgate.storage import search
from fleetgate.storage.db import Database, alembic_config
from fleetgate.storage.search import is_search_object
from fleetgate.storage.tables import Base, InstanceRow


def _diff(conn: Connection) -> list[object]:
    opts = {
        "compare_type": True,
        "include_name": lambda name, type_, parent: not is_search_object(name),
    }
    ctx = MigrationContext.configure(conn, opts=opts)
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


async def _at_revision(conn: AsyncConnection, revision: str, partners: str) -> None:
    """Upgrade to ``revision`` and add partners (``partners``: SQL value rows)."""
    await conn.run_sync(lambda c: command.upgrade(alembic_config(c), revision))
    await conn.execute(
        text(f"INSERT INTO partners (id, name, token_hash, created_ms) VALUES {partners}")
    )


async def test_z_api_columns_are_filled_for_existing_instances(fresh_database_url: str) -> None:
    """0006 numbers a partner's instances in creation order, folds names, counts live ones."""
    db = Database(fresh_database_url)
    try:
        async with db.engine.begin() as conn:
            await _at_revision(conn, "0005", "(1, 'a', 'h1', 0), (2, 'b', 'h2', 0)")
            rows = [(11, 1, "Zeta", 30, None), (12, 1, "CAFÉ", 10, None), (13, 1, "x", 20, 5)]
            rows += [(21, 2, "Other", 5, None)]
            for id_instance, partner, name, created, deleted in rows:
                await conn.execute(
                    text(
                        "INSERT INTO instances (id_instance, partner_id, name, type_instance,"
                        " engine, token_cipher, token_digest, tariff, created_ms, deleted_ms)"
                        " VALUES (:i, :p, :n, 'whatsapp', 'sandbox', :c, :d, 'T', :t, :del)"
                    ),
                    {
                        "i": id_instance,
                        "p": partner,
                        "n": name,
                        "c": b"x",
                        "d": f"digest{id_instance}",
                        "t": created,
                        "del": deleted,
                    },
                )
        await db.migrate()
        async with db.engine.connect() as conn:
            got = (
                await conn.execute(
                    text("SELECT id_instance, seq, search_key FROM instances ORDER BY id_instance")
                )
            ).all()
            counts = (
                await conn.execute(
                    text("SELECT id, instance_seq, live_instances FROM partners ORDER BY id")
                )
            ).all()
        async with AsyncSession(db.engine) as session:
            found = {q: await _search(session, q) for q in ("AFÉ", "ze", "zeta", "1", "21", "xyz")}
            if session.get_bind().dialect.name == "postgresql":
                trigram = text("SELECT count(*) FROM pg_indexes WHERE indexname = :name")
                assert await session.scalar(trigram, {"name": search.TRGM_INDEX}) == 1
    finally:
        await db.dispose()
    assert [tuple(r) for r in got] == [
        (11, 3, "zeta\n11"),
        (12, 1, "café\n12"),
        (13, 2, "x\n13"),
        (21, 1, "other\n21"),
    ]
    assert [tuple(r) for r in counts] == [(1, 3, 2), (2, 1, 1)]
    # The search index holds the rows that were there before the migration.
    assert found == {
        "AFÉ": [12],
        "ze": [11],
        "zeta": [11],
        "1": [11, 12, 13, 21],
        "21": [21],
        "xyz": [],
    }


async def _search(session: AsyncSession, query: str) -> list[int]:
    """Ids whose search key holds ``query``: narrowed by the trigram index where it can."""
    stmt = select(InstanceRow.id_instance).where(search.contains(query))
    hits = await search.fts_hits(session, query, limit=100)
    if session.get_bind().dialect.name == "sqlite" and len(query) >= search.MIN_INDEXED:
        assert hits is not None  # the FTS table answers for rows older than the migration
        stmt = stmt.where(InstanceRow.id_instance.in_(hits))
    return sorted(await session.scalars(stmt))


async def test_webhook_tokens_of_existing_instances_are_encrypted(fresh_database_url: str) -> None:
    """0007 encrypts the clear webhookUrlTokens with the server key; a downgrade decrypts them."""
    cipher = TokenCipher(KeyRing(((3, b"k" * 32),)))
    tokens = {11: "clear-secret-1", 12: "", 13: "Ünï-2"}
    db = Database(fresh_database_url, cipher=cipher)
    try:
        async with db.engine.begin() as conn:
            await _at_revision(conn, "0006", "(1, 'a', 'h', 0)")
            for id_instance, token in tokens.items():
                await conn.execute(
                    text(
                        "INSERT INTO instances (id_instance, partner_id, name, type_instance,"
                        " engine, token_cipher, token_digest, tariff, created_ms,"
                        " webhook_url_token)"
                        " VALUES (:i, 1, 'n', 'whatsapp', 'sandbox', :c, :d, 'T', 0, :w)"
                    ),
                    {"i": id_instance, "c": b"x", "d": f"d{id_instance}", "w": token},
                )
        # Without the server key the upgrade refuses, and leaves everything as it was.
        bare = Database(fresh_database_url)
        try:
            with pytest.raises(RuntimeError, match="server key"):
                await bare.migrate()
        finally:
            await bare.dispose()
        async with db.engine.connect() as conn:
            assert "webhook_url_token" in await conn.run_sync(_instance_columns)

        await db.migrate()
        async with db.engine.connect() as conn:
            assert "webhook_url_token" not in await conn.run_sync(_instance_columns)
            rows = await conn.execute(
                text("SELECT id_instance, webhook_token_cipher FROM instances ORDER BY 1")
            )
            stored = {i: None if b is None else bytes(b) for i, b in rows}
        assert stored[12] is None
        for i in (11, 13):
            blob = stored[i]
            assert blob is not None and blob[0] == 3
            assert tokens[i].encode() not in blob
            assert cipher.decrypt(blob, id_instance=i, field=WEBHOOK_TOKEN) == tokens[i]

        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c, cipher), "0006"))
            rows = await conn.execute(
                text("SELECT id_instance, webhook_url_token FROM instances ORDER BY 1")
            )
            assert {int(i): t for i, t in rows} == tokens
    finally:
        await db.dispose()


def _instance_columns(conn: Connection) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns("instances")}
