"""chat marks (pinned, muted, unread, cleared, deleted, blocked), group descriptions, join
policies and join requests of the sandbox network (the Z-API chats and groups routes)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 18:10:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pinned", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(sa.Column("mute_until_ms", sa.BigInteger(), nullable=True))
        batch_op.add_column(
            sa.Column("unread_mark", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("cleared_ms", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("deleted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("blocked", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("sandbox_groups", schema=None) as batch_op:
        batch_op.add_column(sa.Column("description", sa.Text(), server_default="", nullable=False))
        batch_op.add_column(
            sa.Column("description_ms", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("require_approval", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("members_add", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.create_table(
        "sandbox_group_requests",
        sa.Column("group_id", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("requested_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "phone", name="pk_sandbox_group_requests"),
    )


def downgrade() -> None:
    op.drop_table("sandbox_group_requests")
    with op.batch_alter_table("sandbox_groups", schema=None) as batch_op:
        for name in ("members_add", "require_approval", "description_ms", "description"):
            batch_op.drop_column(name)
    with op.batch_alter_table("chats", schema=None) as batch_op:
        for name in ("blocked", "deleted", "cleared_ms", "unread_mark", "mute_until_ms", "pinned"):
            batch_op.drop_column(name)
