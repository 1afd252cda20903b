"""sandbox phone owners: each virtual phone number is held by one partner

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 01:40:00

Existing numbers get the owner the data shows, else none (the first partner to use the number
then takes it):
- a linked number goes to the partner of the instance that linked to it first; links of other
  partners' instances to the same number (left by the shared-phones bug) are removed, and those
  instances' sessions follow on their next sweep (notAuthorized);
- another known number goes to the partner whose linked numbers it exchanged messages with, when
  that is exactly one partner.
The sandbox holds test data, so this reads it into memory once instead of one SQL per dialect.
"""

from __future__ import annotations

import time
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sandbox_phone_owners",
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("claimed_ms", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_sandbox_phone_owners_partner_id_partners"),
        ),
        sa.PrimaryKeyConstraint("phone", name=op.f("pk_sandbox_phone_owners")),
    )
    _fill_owners(op.get_bind())


def downgrade() -> None:
    op.drop_table("sandbox_phone_owners")


def _fill_owners(bind: sa.Connection) -> None:
    now = int(time.time() * 1000)
    links = bind.execute(
        sa.text(
            "SELECT l.phone, l.id_instance, i.partner_id FROM sandbox_links l"
            " JOIN instances i ON i.id_instance = l.id_instance"
            " ORDER BY l.linked_ms, l.id_instance"
        )
    ).all()
    owners: dict[str, int] = {}
    hijacks: list[int] = []
    for phone, id_instance, partner_id in links:
        owner = owners.setdefault(phone, partner_id)
        if owner != partner_id:
            hijacks.append(id_instance)
    if hijacks:
        unlink = sa.text("DELETE FROM sandbox_links WHERE id_instance = :i")
        bind.execute(unlink, [{"i": i} for i in hijacks])

    known = set(bind.scalars(sa.text("SELECT phone FROM sandbox_phones")))
    pairs = bind.execute(
        sa.text("SELECT DISTINCT from_phone, to_phone FROM sandbox_events WHERE kind = 'message'")
    ).all()
    peers: dict[str, set[int]] = defaultdict(set)
    for a, b in pairs:
        for phone, other in ((a, b), (b, a)):
            if other in owners and phone not in owners:
                peers[phone].add(owners[other])
    for phone, partners in peers.items():
        if len(partners) == 1 and phone in known:
            owners[phone] = partners.pop()

    for phone in sorted(set(owners) - known):
        bind.execute(
            sa.text("INSERT INTO sandbox_phones (phone, created_ms) VALUES (:p, :t)"),
            {"p": phone, "t": now},
        )
    if owners:
        bind.execute(
            sa.text(
                "INSERT INTO sandbox_phone_owners (phone, partner_id, claimed_ms)"
                " VALUES (:p, :o, :t)"
            ),
            [{"p": p, "o": o, "t": now} for p, o in sorted(owners.items())],
        )
