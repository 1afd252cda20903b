"""messages, send queue, sandbox events, rate limits

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23 12:43:06.122571
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "rate_hits",
        sa.Column("id_instance", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("window", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id_instance", "method", "window", name=op.f("pk_rate_hits")),
    )
    op.create_table(
        "sandbox_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("to_phone", sa.String(length=20), nullable=False),
        sa.Column("from_phone", sa.String(length=20), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("id_message", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sandbox_events")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("sandbox_events", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sandbox_events_to_phone_id"), ["to_phone", "id"], unique=False
        )

    op.create_table(
        "sandbox_phones",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sandbox_phones")),
    )
    op.create_table(
        "messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("id_message", sa.String(length=64), nullable=False),
        sa.Column("direction", sa.String(length=3), nullable=False),
        sa.Column("chat_id", sa.String(length=100), nullable=False),
        sa.Column("sender", sa.String(length=100), nullable=False),
        sa.Column("sender_name", sa.String(length=255), server_default="", nullable=False),
        sa.Column("type_message", sa.String(length=40), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("send_by_api", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("queued", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name=op.f("fk_messages_id_instance_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_messages")),
        sqlite_autoincrement=True,
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_messages_id_instance_chat_id_id"),
            ["id_instance", "chat_id", "id"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_messages_id_instance_direction_at_ms"),
            ["id_instance", "direction", "at_ms"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_messages_id_instance_id_message"),
            ["id_instance", "id_message"],
            unique=True,
        )
        batch_op.create_index(
            batch_op.f("ix_messages_id_instance_queued_id"),
            ["id_instance", "queued", "id"],
            unique=False,
        )

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_send_ms", sa.BigInteger(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("sandbox_links", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("cursor", sa.BigInteger(), server_default="0", nullable=False)
        )


def downgrade() -> None:

    with op.batch_alter_table("sandbox_links", schema=None) as batch_op:
        batch_op.drop_column("cursor")

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("last_send_ms")

    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_id_instance_queued_id"))
        batch_op.drop_index(batch_op.f("ix_messages_id_instance_id_message"))
        batch_op.drop_index(batch_op.f("ix_messages_id_instance_direction_at_ms"))
        batch_op.drop_index(batch_op.f("ix_messages_id_instance_chat_id_id"))

    op.drop_table("messages")
    op.drop_table("sandbox_phones")
    with op.batch_alter_table("sandbox_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_events_to_phone_id"))

    op.drop_table("sandbox_events")
    op.drop_table("rate_hits")
