"""instances: webhookUrlToken encrypted with the server key, no longer in clear

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 02:00:00

The server key reaches the migration from the process that runs it (Database.migrate hands
over its cipher; storage/db.py). Existing tokens are encrypted in batches; without a key,
and with tokens to encrypt, the upgrade stops before changing anything.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import context, op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# crypto.WEBHOOK_TOKEN: what the ciphertext is bound to besides the instance id.
_FIELD = "webhookUrlToken"
_BATCH = 1000
_instances = sa.table(
    "instances",
    sa.column("id_instance", sa.BigInteger),
    sa.column("webhook_url_token", sa.String),
    sa.column("webhook_token_cipher", sa.LargeBinary),
)


def _cipher() -> Any:
    cipher = context.config.attributes.get("cipher")
    if cipher is None:
        raise RuntimeError(
            "webhookUrlToken values must be encrypted with the server key, and none was given "
            "to this migration: run it through `fleetgate serve` or another fleetgate command"
        )
    return cipher


def _store(bind: sa.Connection, column: str, values: list[tuple[int, Any]]) -> None:
    """Set ``column`` of each (id, value), a batch of rows per statement."""
    stmt = (
        _instances.update()
        .where(_instances.c.id_instance == sa.bindparam("key"))
        .values({column: sa.bindparam("value")})
    )
    for first in range(0, len(values), _BATCH):
        bind.execute(stmt, [{"key": i, "value": v} for i, v in values[first : first + _BATCH]])


def upgrade() -> None:
    op.add_column("instances", sa.Column("webhook_token_cipher", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    c = _instances.c
    rows = bind.execute(
        sa.select(c.id_instance, c.webhook_url_token).where(c.webhook_url_token != "")
    ).all()
    if rows:
        cipher = _cipher()
        sealed = [(i, cipher.encrypt(token, id_instance=i, field=_FIELD)) for i, token in rows]
        _store(bind, "webhook_token_cipher", sealed)
    # Not in a batch: on SQLite that would rebuild the table and lose the search triggers.
    op.drop_column("instances", "webhook_url_token")


def downgrade() -> None:
    op.add_column(
        "instances",
        sa.Column("webhook_url_token", sa.String(length=1024), server_default="", nullable=False),
    )
    bind = op.get_bind()
    c = _instances.c
    rows = bind.execute(
        sa.select(c.id_instance, c.webhook_token_cipher).where(c.webhook_token_cipher.is_not(None))
    ).all()
    if rows:
        cipher = _cipher()
        opened = [(i, cipher.decrypt(bytes(b), id_instance=i, field=_FIELD)) for i, b in rows]
        _store(bind, "webhook_url_token", opened)
    op.drop_column("instances", "webhook_token_cipher")
