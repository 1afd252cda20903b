"""Z-API: partner sequence, Client-Token, plans, options, callbacks, lanes, delays

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 06:05:00
"""

from __future__ import annotations

import logging

import sqlalchemy as sa
from alembic import op

log = logging.getLogger(__name__)

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_FLAGS = (
    "with_calls",
    "business_device",
    "call_reject_auto",
    "auto_read_status",
    "disable_enqueue_when_disconnected",
    "notify_sent_by_me",
)
_CALLBACKS = (
    "cb_received",
    "cb_received_delivery",
    "cb_delivery",
    "cb_message_status",
    "cb_connected",
    "cb_disconnected",
    "cb_presence_chat",
)


def upgrade() -> None:
    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("instance_seq", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("live_instances", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("client_token_digest", sa.String(length=64), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_partners_client_token_digest"), ["client_token_digest"], unique=True
        )

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(sa.Column("seq", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("search_key", sa.String(length=300), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column("plan", sa.String(length=12), server_default="subscribed", nullable=False)
        )
        batch_op.add_column(sa.Column("canceled_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("middleware", sa.String(length=8), server_default="web", nullable=False)
        )
        batch_op.add_column(
            sa.Column("session_name", sa.String(length=100), server_default="", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "call_reject_message", sa.String(length=1000), server_default="", nullable=False
            )
        )
        for name in _FLAGS:
            batch_op.add_column(
                sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
            )
        for name in _CALLBACKS:
            batch_op.add_column(
                sa.Column(name, sa.String(length=2048), server_default="", nullable=False)
            )
        batch_op.create_index(
            batch_op.f("ix_instances_partner_id_seq"), ["partner_id", "seq"], unique=False
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lane", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("target_url", sa.String(length=2048), nullable=True))

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("delay_ms", sa.Integer(), server_default="0", nullable=False))

    # Existing instances get their sequence numbers in creation order, and search keys.
    op.execute(
        "UPDATE instances SET seq = ("
        " SELECT count(*) FROM instances AS older"
        " WHERE older.partner_id = instances.partner_id"
        " AND (older.created_ms < instances.created_ms"
        " OR (older.created_ms = instances.created_ms"
        " AND older.id_instance <= instances.id_instance)))"
    )
    _fill_search_keys()
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_SEARCH:
            op.execute(statement)
    else:
        _create_trigram_index()
    op.execute(
        "UPDATE partners SET"
        " instance_seq = (SELECT count(*) FROM instances WHERE partner_id = partners.id),"
        " live_instances = (SELECT count(*) FROM instances"
        " WHERE partner_id = partners.id AND deleted_ms IS NULL)"
    )


# The search index (see fleetgate/storage/search.py): an FTS5 trigram table over the search key,
# kept in step with the instances table by triggers.
_SQLITE_SEARCH = (
    "CREATE VIRTUAL TABLE instance_search USING fts5(search_key, content='instances',"
    " content_rowid='id_instance', tokenize='trigram')",
    "CREATE TRIGGER instance_search_insert AFTER INSERT ON instances BEGIN"
    " INSERT INTO instance_search(rowid, search_key) VALUES (new.id_instance, new.search_key);"
    " END",
    "CREATE TRIGGER instance_search_delete AFTER DELETE ON instances BEGIN"
    " INSERT INTO instance_search(instance_search, rowid, search_key)"
    " VALUES ('delete', old.id_instance, old.search_key); END",
    "CREATE TRIGGER instance_search_update AFTER UPDATE OF search_key ON instances BEGIN"
    " INSERT INTO instance_search(instance_search, rowid, search_key)"
    " VALUES ('delete', old.id_instance, old.search_key);"
    " INSERT INTO instance_search(rowid, search_key) VALUES (new.id_instance, new.search_key);"
    " END",
    "INSERT INTO instance_search(instance_search) VALUES ('rebuild')",
)


def _create_trigram_index() -> None:
    """pg_trgm's GIN index; without the extension (no right to create it) search scans."""
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_trgm"))
        bind.execute(
            sa.text(
                "CREATE INDEX ix_instances_search_key_trgm ON instances"
                " USING gin (search_key gin_trgm_ops)"
            )
        )
    except sa.exc.DBAPIError:
        savepoint.rollback()
        log.warning("pg_trgm is not available: the instance search will scan instead")
    else:
        savepoint.commit()


def _fill_search_keys() -> None:
    """Case-folded names, folded in Python: SQLite's lower() only knows ASCII."""
    bind = op.get_bind()
    instances = sa.table(
        "instances",
        sa.column("id_instance", sa.BigInteger),
        sa.column("name"),
        sa.column("search_key"),
    )
    rows = bind.execute(sa.select(instances.c.id_instance, instances.c.name)).all()
    for first in range(0, len(rows), 1000):
        bind.execute(
            instances.update()
            .where(instances.c.id_instance == sa.bindparam("key"))
            .values(search_key=sa.bindparam("folded")),
            [
                {"key": i, "folded": f"{name.casefold()[:255]}\n{i}"}
                for i, name in rows[first : first + 1000]
            ],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("insert", "delete", "update"):
            op.execute(f"DROP TRIGGER IF EXISTS instance_search_{name}")
        op.execute("DROP TABLE IF EXISTS instance_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_instances_search_key_trgm")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_column("delay_ms")

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_column("target_url")
        batch_op.drop_column("lane")

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_partner_id_seq"))
        for name in (*_CALLBACKS, *_FLAGS):
            batch_op.drop_column(name)
        for name in (
            "call_reject_message",
            "session_name",
            "middleware",
            "canceled_ms",
            "plan",
            "search_key",
            "seq",
        ):
            batch_op.drop_column(name)

    with op.batch_alter_table("partners", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_partners_client_token_digest"))
        for name in ("client_token_digest", "live_instances", "instance_seq"):
            batch_op.drop_column(name)
