"""chats (archive flag, disappearing timer) and calls (the call journals)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "chats",
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("archived", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("ephemeral_expiration", sa.Integer(), server_default="0", nullable=False),
        sa.Column("ephemeral_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name="fk_chats_id_instance_instances",
        ),
        sa.PrimaryKeyConstraint("id_instance", "chat_id", name="pk_chats"),
    )
    op.create_table(
        "calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("id_call", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(3), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("is_video", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("duration_s", sa.Integer(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name="fk_calls_id_instance_instances",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_calls"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_calls_id_instance_id_call", "calls", ["id_instance", "id_call"], unique=True
    )
    op.create_index(
        "ix_calls_id_instance_direction_at_ms", "calls", ["id_instance", "direction", "at_ms"]
    )


def downgrade() -> None:
    op.drop_table("calls")
    op.drop_table("chats")
