"""partners.default_engine (the engine of a partner's new instances) and messages.remote_id
(the messenger's own id of a message sent under another, for receipts and quotes)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 06:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: on SQLite a batch rebuilds the table, which the foreign keys
# to partners and the search triggers on instances forbid.


def upgrade() -> None:
    op.add_column("partners", sa.Column("default_engine", sa.String(32), nullable=True))
    op.add_column("messages", sa.Column("remote_id", sa.String(64), nullable=True))
    op.create_index("ix_messages_id_instance_remote_id", "messages", ["id_instance", "remote_id"])


def downgrade() -> None:
    op.drop_index("ix_messages_id_instance_remote_id", table_name="messages")
    op.drop_column("messages", "remote_id")
    op.drop_column("partners", "default_engine")
