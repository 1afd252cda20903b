"""runners, state history, outbox, engine calls, sandbox network

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23 11:54:32.630693
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "runners",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("started_ms", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_runners")),
    )
    op.create_table(
        "engine_calls",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("method", sa.String(length=40), nullable=False),
        sa.Column("args", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("result", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name=op.f("fk_engine_calls_id_instance_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_engine_calls")),
    )
    with op.batch_alter_table("engine_calls", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_engine_calls_id_instance"), ["id_instance"], unique=False
        )

    op.create_table(
        "notifications",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("type_webhook", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_ms", sa.BigInteger(), nullable=False),
        sa.Column("expires_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name=op.f("fk_notifications_id_instance_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_notifications_id_instance_id"), ["id_instance", "id"], unique=False
        )

    op.create_table(
        "sandbox_links",
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("linked_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name=op.f("fk_sandbox_links_id_instance_instances"),
        ),
        sa.PrimaryKeyConstraint("id_instance", name=op.f("pk_sandbox_links")),
    )
    with op.batch_alter_table("sandbox_links", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sandbox_links_phone"), ["phone"], unique=False)

    op.create_table(
        "sandbox_pairings",
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("qr", sa.String(length=100), nullable=True),
        sa.Column("qr_expires_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("code", sa.String(length=16), nullable=True),
        sa.Column("code_phone", sa.String(length=20), nullable=True),
        sa.Column("code_expires_ms", sa.BigInteger(), server_default="0", nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name=op.f("fk_sandbox_pairings_id_instance_instances"),
        ),
        sa.PrimaryKeyConstraint("id_instance", name=op.f("pk_sandbox_pairings")),
        sa.UniqueConstraint("qr", name=op.f("uq_sandbox_pairings_qr")),
    )
    op.create_table(
        "state_history",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("id_instance", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("wid", sa.String(length=64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["id_instance"],
            ["instances.id_instance"],
            name=op.f("fk_state_history_id_instance_instances"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_state_history")),
    )
    with op.batch_alter_table("state_history", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_state_history_id_instance_id"), ["id_instance", "id"], unique=False
        )

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("state", sa.String(length=16), server_default="starting", nullable=False)
        )
        batch_op.add_column(
            sa.Column("wid", sa.String(length=64), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("runner_id", sa.String(length=80), nullable=True))
        batch_op.add_column(
            sa.Column("session_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("logout_epoch", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("engine_auth", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_instances_runner_id"), ["runner_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("instances", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_instances_runner_id"))
        batch_op.drop_column("engine_auth")
        batch_op.drop_column("logout_epoch")
        batch_op.drop_column("session_epoch")
        batch_op.drop_column("runner_id")
        batch_op.drop_column("wid")
        batch_op.drop_column("state")

    with op.batch_alter_table("state_history", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_state_history_id_instance_id"))

    op.drop_table("state_history")
    op.drop_table("sandbox_pairings")
    with op.batch_alter_table("sandbox_links", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sandbox_links_phone"))

    op.drop_table("sandbox_links")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_notifications_id_instance_id"))

    op.drop_table("notifications")
    with op.batch_alter_table("engine_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_engine_calls_id_instance"))

    op.drop_table("engine_calls")
    op.drop_table("runners")
