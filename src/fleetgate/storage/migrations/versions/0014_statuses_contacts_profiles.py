"""sandbox statuses and who saw them, contacts, profiles, and messages.request (the queue form)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "sandbox_statuses",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("from_phone", sa.String(20), nullable=False),
        sa.Column("id_message", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("deleted_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sandbox_statuses"),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_sandbox_statuses_from_phone_id_message",
        "sandbox_statuses",
        ["from_phone", "id_message"],
        unique=True,
    )
    op.create_table(
        "sandbox_status_views",
        sa.Column("status_id", _ID, nullable=False),
        sa.Column("viewer_phone", sa.String(20), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["status_id"],
            ["sandbox_statuses.id"],
            name="fk_sandbox_status_views_status_id_sandbox_statuses",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("status_id", "viewer_phone", name="pk_sandbox_status_views"),
    )
    op.create_index(
        "ix_sandbox_status_views_viewer_phone", "sandbox_status_views", ["viewer_phone"]
    )
    op.create_table(
        "contacts",
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("chat_id", sa.String(100), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name="fk_contacts_id_instance_instances",
        ),
        sa.PrimaryKeyConstraint("id_instance", "chat_id", name="pk_contacts"),
    )
    op.create_table(
        "profiles",
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("picture_key", sa.String(32), nullable=True),
        sa.Column("updated_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name="fk_profiles_id_instance_instances",
        ),
        sa.PrimaryKeyConstraint("id_instance", name="pk_profiles"),
    )
    # Plain ALTER TABLE: a batch would rebuild messages (see 0010).
    op.add_column("messages", sa.Column("request", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("messages", "request")
    op.drop_table("profiles")
    op.drop_table("contacts")
    op.drop_table("sandbox_status_views")
    op.drop_table("sandbox_statuses")
