"""partners and instances

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Frozen copy of the yes/no settings columns as of this revision.
_FLAGS = (
    "mark_incoming_messages_read",
    "mark_incoming_messages_read_on_reply",
    "outgoing_webhook",
    "outgoing_message_webhook",
    "outgoing_api_message_webhook",
    "incoming_webhook",
    "device_webhook",
    "status_instance_webhook",
    "state_webhook",
    "enable_messages_history",
    "keep_online_status",
    "poll_message_webhook",
    "incoming_block_webhook",
    "incoming_call_webhook",
    "edited_message_webhook",
    "deleted_message_webhook",
)


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("revoked_ms", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partners")),
        sa.UniqueConstraint("name", name=op.f("uq_partners_name")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_partners_token_hash")),
    )
    op.create_table(
        "instances",
        sa.Column("id_instance", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("type_instance", sa.String(length=16), nullable=False),
        sa.Column("engine", sa.String(length=32), nullable=False),
        sa.Column("token_cipher", sa.LargeBinary(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("tariff", sa.String(length=32), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("deleted_ms", sa.BigInteger(), nullable=True),
        sa.Column("expires_ms", sa.BigInteger(), nullable=True),
        sa.Column("webhook_url", sa.String(length=2048), server_default="", nullable=False),
        sa.Column("webhook_url_token", sa.String(length=1024), server_default="", nullable=False),
        sa.Column("delay_send_ms", sa.Integer(), server_default="500", nullable=False),
        *(
            sa.Column(name, sa.Boolean(), server_default=sa.false(), nullable=False)
            for name in _FLAGS
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"], ["partners.id"], name=op.f("fk_instances_partner_id_partners")
        ),
        sa.PrimaryKeyConstraint("id_instance", name=op.f("pk_instances")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_instances_token_digest")),
    )
    op.create_index(
        op.f("ix_instances_partner_id_created_ms_id_instance"),
        "instances",
        ["partner_id", "created_ms", "id_instance"],
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_instances_partner_id_created_ms_id_instance"), table_name="instances")
    op.drop_table("instances")
    op.drop_table("partners")
