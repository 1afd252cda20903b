"""The store's DSN rules and device look-up on SQLite (store.py)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from fleetgate_whatsapp.client import ClientError
from fleetgate_whatsapp.store import has_device, library_dsn, schema_of


def test_store_dsns_follow_the_library_rules() -> None:
    dsn = library_dsn("postgresql+asyncpg://fg:pw@db:5432/fleet")
    assert dsn == "postgres://fg:pw@db:5432/fleet?sslmode=disable&search_path=whatsmeow"
    assert schema_of(dsn) == "whatsmeow"
    kept = library_dsn("postgres://db/fleet?sslmode=require&search_path=wa")
    assert kept == "postgres://db/fleet?sslmode=require&search_path=wa"
    assert library_dsn("/var/lib/fleetgate/wa/1100000001.whatsmeow").endswith(".whatsmeow")
    with pytest.raises(ClientError, match="neither a postgres:// URL nor a file path"):
        library_dsn("host=db dbname=fleet")


def test_a_device_is_looked_up_in_a_sqlite_store(tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    assert not has_device(str(store), "1:2@s.whatsapp.net")  # no file yet
    with closing(sqlite3.connect(store)) as db:
        db.execute("CREATE TABLE other (x)")
    assert not has_device(str(store), "1:2@s.whatsapp.net")  # not migrated yet
    with closing(sqlite3.connect(store)) as db:
        db.execute("CREATE TABLE whatsmeow_device (jid TEXT PRIMARY KEY)")
        db.execute("INSERT INTO whatsmeow_device VALUES ('1:2@s.whatsapp.net')")
        db.commit()
    assert has_device(str(store), "1:2@s.whatsapp.net")
    assert not has_device(str(store), "1:3@s.whatsapp.net")
