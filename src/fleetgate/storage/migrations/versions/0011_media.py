"""media (stored files: uploads, files sent and received) and messages.media_key

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("id_instance", sa.BigInteger(), nullable=True),
        sa.Column("object_key", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("mime_type", sa.String(127), nullable=False),
        sa.Column("file_name", sa.String(255), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_media"),
    )
    op.create_index("ix_media_id_instance", "media", ["id_instance"])
    op.create_index("ix_media_object_key", "media", ["object_key"])
    op.create_index("ix_media_expires_ms", "media", ["expires_ms"])
    # Plain ALTER TABLE: a batch would rebuild messages (see 0010).
    op.add_column("messages", sa.Column("media_key", sa.String(32), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "media_key")
    op.drop_table("media")
