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
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0005"))
            rows = [(11, 1, "Zeta", 30, None), (12, 1, "CAFÉ", 10, None), (13, 1, "x", 20, 5)]
            await _add_partners_and_instances(conn, 2, [*rows, (21, 2, "Other", 5, None)])
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


async def _add_partners_and_instances(
    conn: AsyncConnection, partners: int, instances: list[tuple[int, int, str, int, int | None]]
) -> None:
    """Partners 1..``partners`` and instances (id, partner, name, created, deleted) as raw rows."""
    await conn.execute(
        text("INSERT INTO partners (id, name, token_hash, created_ms) VALUES (:i, :n, :h, 0)"),
        [{"i": i, "n": f"p{i}", "h": f"h{i}"} for i in range(1, partners + 1)],
    )
    for id_instance, partner, name, created, deleted in instances:
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


async def _search(session: AsyncSession, query: str) -> list[int]:
    """Ids whose search key holds ``query``: narrowed by the trigram index where it can."""
    stmt = select(InstanceRow.id_instance).where(search.contains(query))
    hits = await search.fts_hits(session, query, limit=100)
    if session.get_bind().dialect.name == "sqlite" and len(query) >= search.MIN_INDEXED:
        assert hits is not None  # the FTS table answers for rows older than the migration
        stmt = stmt.where(InstanceRow.id_instance.in_(hits))
    return sorted(await session.scalars(stmt))


async def test_sandbox_phones_get_the_owner_their_links_and_chats_show(
    fresh_database_url: str,
) -> None:
    """0007: a linked number goes to its first linker's partner (later links of other partners
    are removed), a number that chatted only with one partner's linked numbers to that partner,
    any other number to nobody."""
    db = Database(fresh_database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "0006"))
            instances = [(11, 1, "", 0, None), (12, 2, "", 0, None), (13, 1, "", 0, None)]
            await _add_partners_and_instances(conn, 3, [*instances, (31, 3, "", 0, None)])
            # 12 (partner 2) linked to partner 1's number after 11 did: what the bug allowed.
            # 31's number was linked before sandbox_phones knew linked numbers.
            links = [(11, "700001", 10), (12, "700001", 20), (13, "700001", 30), (31, "700003", 5)]
            await conn.execute(
                text(
                    "INSERT INTO sandbox_links (id_instance, phone, linked_ms) VALUES (:i, :p, :t)"
                ),
                [{"i": i, "p": p, "t": t} for i, p, t in links],
            )
            known = ["700001", "7000c", "7000d", "7000e", "7000f"]
            await conn.execute(
                text("INSERT INTO sandbox_phones (phone, created_ms) VALUES (:p, 0)"),
                [{"p": p} for p in known],
            )
            # c chatted with partner 1's number only, d with partners 1 and 3, e with c only,
            # f got only a receipt from partner 3's number.
            events = [
                ("700001", "7000c", "message"),
                ("7000c", "700001", "message"),
                ("700001", "7000d", "message"),
                ("700003", "7000d", "message"),
                ("7000e", "7000c", "message"),
                ("7000f", "700003", "receipt"),
            ]
            await conn.execute(
                text(
                    "INSERT INTO sandbox_events (to_phone, from_phone, kind, id_message, payload,"
                    " at_ms) VALUES (:t, :f, :k, 'M', '{}', 0)"
                ),
                [{"t": t, "f": f, "k": k} for t, f, k in events],
            )
        await db.migrate()
        async with db.engine.connect() as conn:
            owners = (
                await conn.execute(
                    text("SELECT phone, partner_id FROM sandbox_phone_owners ORDER BY phone")
                )
            ).all()
            links_after = (
                await conn.execute(
                    text("SELECT id_instance, phone FROM sandbox_links ORDER BY id_instance")
                )
            ).all()
            phones = (
                await conn.execute(text("SELECT phone FROM sandbox_phones ORDER BY phone"))
            ).all()
    finally:
        await db.dispose()
    assert [tuple(r) for r in owners] == [("700001", 1), ("700003", 3), ("7000c", 1)]
    assert [tuple(r) for r in links_after] == [(11, "700001"), (13, "700001"), (31, "700003")]
    assert [r[0] for r in phones] == sorted([*known, "700003"])


async def test_webhook_tokens_of_existing_instances_are_encrypted(fresh_database_url: str) -> None:
    """0008 encrypts the clear webhookUrlTokens with the server key; a downgrade decrypts them."""
    cipher = TokenCipher(KeyRing(((3, b"k" * 32),)))
    tokens = {11: "clear-secret-1", 12: "", 13: "Ünï-2"}
    db = Database(fresh_database_url, cipher=cipher)
    try:
        async with db.engine.begin() as conn:
            await _at_revision(conn, "0007", "(1, 'a', 'h', 0)")
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
            await conn.run_sync(lambda c: command.downgrade(alembic_config(c, cipher), "0007"))
            rows = await conn.execute(
                text("SELECT id_instance, webhook_url_token FROM instances ORDER BY 1")
            )
            assert {int(i): t for i, t in rows} == tokens
    finally:
        await db.dispose()


def _instance_columns(conn: Connection) -> set[str]:
    return {c["name"] for c in inspect(conn).get_columns("instances")}
