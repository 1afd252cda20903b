"""sandbox_groups and sandbox_group_members (group chats of the sandbox network)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_groups",
        sa.Column("group_id", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(100), nullable=False),
        sa.Column("owner", sa.String(20), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("subject_ms", sa.BigInteger(), nullable=False),
        sa.Column("subject_owner", sa.String(20), nullable=False),
        sa.Column("invite_code", sa.String(32), nullable=False),
        sa.Column("picture", sa.Text(), nullable=True),
        sa.Column("members_edit", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.Column("members_send", sa.Boolean(), server_default=sa.true(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", name="pk_sandbox_groups"),
    )
    op.create_table(
        "sandbox_group_members",
        sa.Column("group_id", sa.String(40), nullable=False),
        sa.Column("phone", sa.String(20), nullable=False),
        sa.Column("admin", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("joined_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("group_id", "phone", name="pk_sandbox_group_members"),
    )
    op.create_index("ix_sandbox_group_members_phone", "sandbox_group_members", ["phone"])


def downgrade() -> None:
    op.drop_table("sandbox_group_members")
    op.drop_table("sandbox_groups")
