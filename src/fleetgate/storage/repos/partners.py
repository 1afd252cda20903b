"""Partner rows: insert, look up, revoke. Flushes only; the caller commits."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.partners import Partner
from fleetgate.storage.tables import PartnerRow


def _to_partner(row: PartnerRow) -> Partner:
    return Partner(
        id=row.id,
        name=row.name,
        created_ms=row.created_ms,
        revoked_ms=row.revoked_ms,
        client_token_digest=row.client_token_digest,
        default_engine=row.default_engine,
    )


async def insert(
    session: AsyncSession, *, name: str, token_hash: str, now: int, engine: str | None = None
) -> Partner:
    row = PartnerRow(name=name, token_hash=token_hash, created_ms=now, default_engine=engine)
    session.add(row)
    await session.flush()
    return _to_partner(row)


async def by_name(session: AsyncSession, name: str) -> Partner | None:
    row = await session.scalar(select(PartnerRow).where(PartnerRow.name == name))
    return _to_partner(row) if row else None


async def by_token_hash(session: AsyncSession, token_hash: str) -> tuple[Partner, str] | None:
    """The partner with this token hash, and the stored hash for a constant-time re-check."""
    row = await session.scalar(select(PartnerRow).where(PartnerRow.token_hash == token_hash))
    return (_to_partner(row), row.token_hash) if row else None


async def all_partners(session: AsyncSession) -> list[Partner]:
    rows = await session.scalars(select(PartnerRow).order_by(PartnerRow.id))
    return [_to_partner(r) for r in rows]


async def count_active(session: AsyncSession) -> int:
    stmt = select(func.count()).select_from(PartnerRow).where(PartnerRow.revoked_ms.is_(None))
    return int(await session.scalar(stmt) or 0)


async def revoke(session: AsyncSession, *, name: str, now: int) -> bool:
    """Mark a partner revoked; False if there is no such active partner."""
    result = await session.execute(
        update(PartnerRow)
        .where(PartnerRow.name == name, PartnerRow.revoked_ms.is_(None))
        .values(revoked_ms=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def take_instance_seqs(session: AsyncSession, partner_id: int, count: int) -> int | None:
    """Count ``count`` more instances for the partner; the first of their sequence numbers.

    The partner row stays locked until commit. None if the partner is revoked.
    """
    stmt = (
        update(PartnerRow)
        .where(PartnerRow.id == partner_id, PartnerRow.revoked_ms.is_(None))
        .values(
            instance_seq=PartnerRow.instance_seq + count,
            live_instances=PartnerRow.live_instances + count,
        )
        .returning(PartnerRow.instance_seq)
    )
    last = (await session.execute(stmt)).scalar_one_or_none()
    return None if last is None else int(last) - count + 1


async def instance_deleted(session: AsyncSession, partner_id: int) -> None:
    await session.execute(
        update(PartnerRow)
        .where(PartnerRow.id == partner_id)
        .values(live_instances=PartnerRow.live_instances - 1)
    )


async def instance_counts(session: AsyncSession, partner_id: int) -> tuple[int, int]:
    """(last sequence number, instances not deleted) of the partner."""
    stmt = select(PartnerRow.instance_seq, PartnerRow.live_instances).where(
        PartnerRow.id == partner_id
    )
    row = (await session.execute(stmt)).one()
    return int(row[0]), int(row[1])


async def by_id(session: AsyncSession, partner_id: int) -> Partner | None:
    row = await session.get(PartnerRow, partner_id)
    return _to_partner(row) if row else None


async def by_client_token_digest(session: AsyncSession, digest: str) -> Partner | None:
    row = await session.scalar(select(PartnerRow).where(PartnerRow.client_token_digest == digest))
    return _to_partner(row) if row else None


async def set_client_token_digest(
    session: AsyncSession, partner_id: int, digest: str | None
) -> None:
    await session.execute(
        update(PartnerRow).where(PartnerRow.id == partner_id).values(client_token_digest=digest)
    )


async def rotation_after(session: AsyncSession, partner_id: int) -> int | None:
    """Where an unfinished instance token rotation stopped (0: at the start), or None."""
    stmt = select(PartnerRow.rotation_after).where(PartnerRow.id == partner_id)
    found = await session.scalar(stmt)
    return None if found is None else int(found)


async def set_rotation_after(session: AsyncSession, partner_id: int, after: int | None) -> None:
    await session.execute(
        update(PartnerRow).where(PartnerRow.id == partner_id).values(rotation_after=after)
    )


async def replace_token(session: AsyncSession, partner_id: int, token_hash: str) -> None:
    """A new token hash for the partner, which is active again if it was revoked."""
    await session.execute(
        update(PartnerRow)
        .where(PartnerRow.id == partner_id)
        .values(token_hash=token_hash, revoked_ms=None)
    )
