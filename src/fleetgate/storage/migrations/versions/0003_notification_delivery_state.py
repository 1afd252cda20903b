"""notification delivery state

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 12:14:44.459165
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("queue_cleared_ms", sa.BigInteger(), server_default="0", nullable=False)
        )

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("status", sa.String(length=8), server_default="pending", nullable=False)
        )
        batch_op.add_column(sa.Column("attempts", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(
            sa.Column("next_attempt_ms", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("claimed_by", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("claimed_until_ms", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("last_error", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("dead_ms", sa.BigInteger(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_notifications_id_instance_id"))
        batch_op.create_index(
            batch_op.f("ix_notifications_id_instance_status_id"),
            ["id_instance", "status", "id"],
            unique=False,
        )
        batch_op.drop_column("expires_ms")


def downgrade() -> None:

    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("expires_ms", sa.BIGINT(), server_default="0", nullable=False)
        )
        batch_op.drop_index(batch_op.f("ix_notifications_id_instance_status_id"))
        batch_op.create_index(
            batch_op.f("ix_notifications_id_instance_id"), ["id_instance", "id"], unique=False
        )
        batch_op.drop_column("dead_ms")
        batch_op.drop_column("last_error")
        batch_op.drop_column("claimed_until_ms")
        batch_op.drop_column("claimed_by")
        batch_op.drop_column("next_attempt_ms")
        batch_op.drop_column("attempts")
        batch_op.drop_column("status")

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_column("queue_cleared_ms")
