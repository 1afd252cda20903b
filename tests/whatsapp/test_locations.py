"""Where device keys live: the DSN derived from fleetgate's database URL, and the schema or
folder made at engine start."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import pytest
from sqlalchemy import text

from fleetgate.context import Context
from fleetgate.domain.instances import State
from fleetgate.settings import Settings
from fleetgate_whatsapp.locations import StoreLocations, postgres_dsn
from tests.engines.contract import EngineHarness, NewInstance, OpenSession
from tests.whatsapp.harness import MakeWhatsApp, WhatsAppFixtures


@pytest.mark.parametrize(
    ("url", "dsn"),
    [
        (
            "postgresql+asyncpg://postgres@127.0.0.1:5432/test",
            "postgres://postgres@127.0.0.1:5432/test?sslmode=disable&search_path=whatsmeow",
        ),
        (
            "postgresql+asyncpg://fleet%40gate:p%40ss%3Aw%2Frd@db.example:6543/fleet%20gate",
            "postgres://fleet%40gate:p%40ss%3Aw%2Frd@db.example:6543/fleet%20gate"
            "?sslmode=disable&search_path=whatsmeow",
        ),
        (
            "postgresql://u:@[::1]/db?sslmode=verify-full&sslrootcert=/etc/ca.pem",
            "postgres://u:@[::1]/db?sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem"
            "&search_path=whatsmeow",
        ),
        (
            "postgresql+asyncpg://u@h/db?ssl=true&prepared_statement_cache_size=0",
            "postgres://u@h/db?sslmode=require&search_path=whatsmeow",
        ),
        (
            "postgresql+asyncpg://u@h/db?ssl=prefer",
            "postgres://u@h/db?sslmode=disable&search_path=whatsmeow",
        ),
        (
            "postgresql+asyncpg:///db?host=/var/run/postgresql",
            "postgres:///db?sslmode=disable&host=%2Fvar%2Frun%2Fpostgresql&search_path=whatsmeow",
        ),
    ],
)
def test_postgres_dsn_from_the_sqlalchemy_url(url: str, dsn: str) -> None:
    assert postgres_dsn(url, "whatsmeow") == dsn


def test_postgres_dsn_refuses_another_database() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        postgres_dsn("sqlite+aiosqlite:///x.db", "whatsmeow")


def test_sqlite_gives_each_instance_a_file_in_the_data_dir(tmp_path: Path) -> None:
    stores = StoreLocations(Settings(data_dir=tmp_path / "data"), "whatsmeow")
    assert stores.shared is None
    assert stores.dsn_for(1101000001) == str((tmp_path / "data/whatsapp/1101000001.db").resolve())
    with pytest.raises(ValueError, match="must not contain"):
        StoreLocations(Settings(data_dir=tmp_path / "what?"), "whatsmeow")


class TestStoreAtEngineStart(WhatsAppFixtures, EngineHarness):
    async def test_first_session_prepares_the_store(
        self,
        engine_ctx: Context,
        make_whatsapp: MakeWhatsApp,
        open_session: OpenSession,
        new_instance: NewInstance,
    ) -> None:
        engine = make_whatsapp(postgres_schema="wa_keys")
        session, events = open_session(engine, await new_instance())
        await session.start()
        assert events.state == (State.NOT_AUTHORIZED, "")
        id_instance = session.sid  # type: ignore[attr-defined]
        if engine_ctx.db.is_sqlite:
            assert engine.stores.dsn_for(id_instance).endswith(f"/whatsapp/{id_instance}.db")
            # The worker's client migrated the instance's own file.
            assert Path(engine.stores.dsn_for(id_instance)).is_file()
            return
        async with engine_ctx.db.reading() as db:
            found = await db.scalar(text("SELECT 1 FROM pg_namespace WHERE nspname = 'wa_keys'"))
        assert found == 1
        # The DSN the workers get reaches the same database, in that schema.
        dsn = engine.stores.dsn_for(id_instance)
        assert dsn == engine.stores.shared
        conn = await asyncpg.connect(dsn)
        try:
            assert await conn.fetchval("SHOW search_path") == "wa_keys"
            assert await conn.fetchval("SELECT current_database()") == engine_ctx.db.url.database
        finally:
            await conn.close()


def test_a_store_url_of_its_own_wins_even_on_sqlite(tmp_path: Path) -> None:
    stores = StoreLocations(
        Settings(data_dir=tmp_path / "data"),
        "whatsmeow",
        "postgresql+asyncpg://wa@127.0.0.1:6432/store",
    )
    expected = "postgres://wa@127.0.0.1:6432/store?sslmode=disable&search_path=whatsmeow"
    assert stores.dsn_for(1) == stores.dsn_for(2) == expected
    assert stores.separate
