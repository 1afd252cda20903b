"""a partial index on a partner's deleted instances by deletion time, for the console's deleted
view (count and pages, the latest deletion first) without scanning every partner's instances

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 19:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_instances_partner_id_deleted_ms_id_instance"),
            ["partner_id", "deleted_ms", "id_instance"],
            unique=False,
            sqlite_where=sa.text("deleted_ms IS NOT NULL"),
            postgresql_where=sa.text("deleted_ms IS NOT NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_partner_id_deleted_ms_id_instance"))
