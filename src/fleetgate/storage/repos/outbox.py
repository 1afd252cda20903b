"""Notification rows (the outbox): the polling queue and the delivery worker's claims."""

from __future__ import annotations

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from fleetgate.domain.notifications import Claimed, DeadLetter, Lane, Queued
from fleetgate.domain.notifications import NotificationStatus as Status
from fleetgate.storage.tables import InstanceRow, NotificationRow

N = NotificationRow


_QUEUED = (N.id, N.id_instance, N.type_webhook, N.body, N.created_ms, N.attempts)


def _queued(r: object) -> Queued:
    return Queued(r.id, r.id_instance, r.type_webhook, r.body, r.created_ms, r.attempts)  # type: ignore[attr-defined]


async def append(
    session: AsyncSession,
    *,
    id_instance: int,
    type_webhook: str,
    body: str,
    now: int,
    lane: Lane = Lane.GREEN,
    target_url: str | None = None,
) -> int:
    row = N(
        id_instance=id_instance,
        type_webhook=type_webhook,
        body=body,
        created_ms=now,
        lane=lane,
        target_url=target_url,
    )
    session.add(row)
    await session.flush()
    return row.id


async def head(session: AsyncSession, *, id_instance: int, newer_than: int) -> Queued | None:
    """The oldest pending notification of the instance created after ``newer_than``."""
    row = (
        await session.execute(
            select(*_QUEUED)
            .where(
                N.id_instance == id_instance,
                N.status == Status.PENDING,
                N.lane == Lane.GREEN,
                N.created_ms > newer_than,
            )
            .order_by(N.id)
            .limit(1)
        )
    ).first()
    return _queued(row) if row else None


async def acknowledge(session: AsyncSession, *, id_instance: int, receipt_id: int) -> bool:
    """Delete a pending notification of the instance; False if there is none with that id."""
    result = await session.execute(
        delete(N).where(
            N.id == receipt_id,
            N.id_instance == id_instance,
            N.status == Status.PENDING,
            N.lane == Lane.GREEN,
        )
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def count_pending(session: AsyncSession, *, id_instance: int, newer_than: int) -> int:
    stmt = select(func.count()).where(
        N.id_instance == id_instance,
        N.status == Status.PENDING,
        N.lane == Lane.GREEN,
        N.created_ms > newer_than,
    )
    return int(await session.scalar(stmt) or 0)


async def clear_pending(session: AsyncSession, *, id_instance: int) -> int:
    result = await session.execute(
        delete(N).where(
            N.id_instance == id_instance, N.status == Status.PENDING, N.lane == Lane.GREEN
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def claim_heads(
    session: AsyncSession, *, worker: str, now: int, hold_ms: int, limit: int, skip_locked: bool
) -> list[Claimed]:
    """Claim the due head of up to ``limit`` instance queues that push to a URL.

    Only the head of a queue (an instance's lane) is ever claimed, and only when no other
    worker holds it, so each queue goes out one at a time and in order. GREEN-API rows go to
    the instance's current webhookUrl with its token; callbacks to their own URL, without.
    """
    older = aliased(N)
    earlier_pending = (
        select(older.id)
        .where(
            older.id_instance == N.id_instance,
            older.status == Status.PENDING,
            older.lane == N.lane,
            older.id < N.id,
        )
        .exists()
    )
    is_callback = N.lane == Lane.CALLBACK
    stmt = (
        select(
            *_QUEUED,
            case((is_callback, N.target_url), else_=InstanceRow.webhook_url).label("url"),
            case((is_callback, None), else_=InstanceRow.webhook_token_cipher).label("token"),
        )
        .join(InstanceRow, InstanceRow.id_instance == N.id_instance)
        .where(
            N.status == Status.PENDING,
            N.next_attempt_ms <= now,
            N.claimed_until_ms <= now,
            or_(is_callback, InstanceRow.webhook_url != ""),
            InstanceRow.deleted_ms.is_(None),
            ~earlier_pending,
        )
        .order_by(N.id)
        .limit(limit)
    )
    if skip_locked:
        stmt = stmt.with_for_update(of=N, skip_locked=True)
    rows = (await session.execute(stmt)).all()
    if not rows:
        return []
    await session.execute(
        update(N)
        .where(N.id.in_([r.id for r in rows]))
        .values(claimed_by=worker, claimed_until_ms=now + hold_ms)
    )
    return [Claimed(_queued(r), r.url, None if r.token is None else bytes(r.token)) for r in rows]


async def release_all_claims(session: AsyncSession) -> None:
    await session.execute(
        update(N).where(N.claimed_by.is_not(None)).values(claimed_by=None, claimed_until_ms=0)
    )


async def renew_claims(session: AsyncSession, *, worker: str, ids: list[int], until: int) -> None:
    """Extend this worker's claims on these notifications."""
    await session.execute(
        update(N).where(N.id.in_(ids), N.claimed_by == worker).values(claimed_until_ms=until)
    )


async def delivered(session: AsyncSession, *, ids: list[int], worker: str) -> None:
    """Drop delivered notifications (those this worker no longer holds stay)."""
    await session.execute(delete(N).where(N.id.in_(ids), N.claimed_by == worker))


async def failed(
    session: AsyncSession,
    *,
    notification_id: int,
    worker: str,
    error: str,
    next_attempt_ms: int | None,
    now: int,
) -> None:
    """Record a failed attempt: try again at ``next_attempt_ms``, or (None) give up."""
    values: dict[str, object] = {
        "attempts": N.attempts + 1,
        "claimed_by": None,
        "claimed_until_ms": 0,
        "last_error": error[:500],
    }
    if next_attempt_ms is None:
        values |= {"status": Status.DEAD, "dead_ms": now}
    else:
        values["next_attempt_ms"] = next_attempt_ms
    await session.execute(
        update(N).where(N.id == notification_id, N.claimed_by == worker).values(values)
    )


async def expire(session: AsyncSession, *, older_than: int, now: int) -> int:
    """Move pending notifications created before ``older_than`` to the dead letters."""
    result = await session.execute(
        update(N)
        .where(N.status == Status.PENDING, N.created_ms <= older_than, N.claimed_until_ms <= now)
        .values(
            status=Status.DEAD, dead_ms=now, last_error="not delivered within the retention time"
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def purge_dead(session: AsyncSession, *, older_than: int) -> int:
    result = await session.execute(
        delete(N).where(N.status == Status.DEAD, N.dead_ms <= older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def dead_letters(
    session: AsyncSession, *, instance_ids: list[int] | None, partner_id: int | None, limit: int
) -> list[DeadLetter]:
    """Dead letters, oldest first; of some instances and/or one partner's."""
    stmt = select(*_QUEUED, N.dead_ms, N.last_error).where(N.status == Status.DEAD)
    if instance_ids is not None:
        stmt = stmt.where(N.id_instance.in_(instance_ids))
    if partner_id is not None:
        stmt = stmt.join(InstanceRow, InstanceRow.id_instance == N.id_instance).where(
            InstanceRow.partner_id == partner_id
        )
    rows = await session.execute(stmt.order_by(N.id).limit(limit))
    return [DeadLetter(_queued(r), r.dead_ms or 0, r.last_error or "") for r in rows]


async def requeue(
    session: AsyncSession, *, ids: list[int], partner_id: int | None, now: int
) -> list[Queued]:
    """Put dead letters back at the tail of their queues (as new notifications); the new rows.

    With ``partner_id``, only that partner's dead letters are touched.
    """
    stmt = select(*_QUEUED, N.lane, N.target_url).where(N.id.in_(ids), N.status == Status.DEAD)
    if partner_id is not None:
        stmt = stmt.join(InstanceRow, InstanceRow.id_instance == N.id_instance).where(
            InstanceRow.partner_id == partner_id
        )
    rows = (await session.execute(stmt.order_by(N.id))).all()
    fresh = []
    for r in rows:
        new_id = await append(
            session,
            id_instance=r.id_instance,
            type_webhook=r.type_webhook,
            body=r.body,
            now=now,
            lane=r.lane,  # a callback goes back to its own URL, not to the GREEN-API queue
            target_url=r.target_url,
        )
        fresh.append(Queued(new_id, r.id_instance, r.type_webhook, r.body, now, 0))
    await session.execute(delete(N).where(N.id.in_([r.id for r in rows])))
    return fresh
