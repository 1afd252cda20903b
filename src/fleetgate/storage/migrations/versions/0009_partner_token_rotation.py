"""partners: progress of `fleetgate partner rotate-instance-tokens`

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


# Plain ALTER TABLE, not a batch: on SQLite a batch drop rebuilds the table, which its
# instances' foreign keys forbid.


def upgrade() -> None:
    op.add_column("partners", sa.Column("rotation_after", sa.BigInteger(), nullable=True))


def downgrade() -> None:
    op.drop_column("partners", "rotation_after")
