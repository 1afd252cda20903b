"""Instance rows. Flushes only; the caller commits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Row, RowMapping, and_, func, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.config import CALLBACKS, OPTIONS, SWITCHES
from fleetgate.domain.instances import InstanceSummary, InstanceView, Plan, State
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import InstanceRow, PartnerRow

# Every write to a column an InstanceView shows sends this signal (payload: the id) with its
# transaction, so cached views (services/instance_cache.py) are dropped in every process.
CHANGED_CHANNEL = "instance"
# Columns no InstanceView shows: writing only these needs no signal.
_UNSEEN = frozenset({"last_send_ms", "engine_auth"})

# Columns a partner listing needs, nothing more (getInstances reads them for every instance).
_LISTING = (
    InstanceRow.id_instance,
    InstanceRow.name,
    InstanceRow.type_instance,
    InstanceRow.token_cipher,
    InstanceRow.tariff,
    InstanceRow.created_ms,
    InstanceRow.deleted_ms,
    InstanceRow.expires_ms,
)
ListingRow = Row[int, str, str, bytes, str, int, int | None, int | None]


async def insert_new(session: AsyncSession, rows: list[dict[str, Any]]) -> set[int]:
    """Insert new instances, skipping any whose id (or token) is taken; the ids stored."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    stored: set[int] = set()
    # One statement per set of columns: a row without a column takes its default.
    by_columns: dict[frozenset[str], list[dict[str, Any]]] = {}
    for row in rows:
        by_columns.setdefault(frozenset(row), []).append(row)
    for same in by_columns.values():
        stmt = (
            dialect.insert(InstanceRow).on_conflict_do_nothing().returning(InstanceRow.id_instance)
        )
        stored.update((await session.scalars(stmt, same)).all())
    return stored


async def mark_deleted(
    session: AsyncSession, signals: Signals, *, partner_id: int, id_instance: int, now: int
) -> bool:
    """Soft-delete a live instance of this partner; False if there is none."""
    result = await session.execute(
        update(InstanceRow)
        .where(
            InstanceRow.id_instance == id_instance,
            InstanceRow.partner_id == partner_id,
            InstanceRow.deleted_ms.is_(None),
        )
        .values(deleted_ms=now)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    await signals.send(session, CHANGED_CHANNEL, str(id_instance))
    return True


async def live_ids_after(
    session: AsyncSession, *, partner_id: int, after: int, limit: int
) -> list[int]:
    """Up to ``limit`` ids above ``after`` of the partner's instances not deleted, in order."""
    stmt = (
        select(InstanceRow.id_instance)
        .where(*_live_after(partner_id, after))
        .order_by(InstanceRow.id_instance)
        .limit(limit)
    )
    return [int(i) for i in await session.scalars(stmt)]


async def count_live_after(session: AsyncSession, *, partner_id: int, after: int) -> int:
    """How many of the partner's instances not deleted have ids above ``after``."""
    stmt = select(func.count()).where(*_live_after(partner_id, after))
    return int(await session.scalar(stmt) or 0)


def _live_after(partner_id: int, after: int) -> tuple[ColumnElement[bool], ...]:
    return (
        InstanceRow.partner_id == partner_id,
        InstanceRow.deleted_ms.is_(None),
        InstanceRow.id_instance > after,
    )


async def listing_batches(
    session: AsyncSession, *, partner_id: int, batch: int
) -> AsyncIterator[Sequence[ListingRow]]:
    """One partner's instances in creation order, ``batch`` rows at a time (keyset pages)."""
    stmt = (
        select(*_LISTING)
        .where(InstanceRow.partner_id == partner_id)
        .order_by(InstanceRow.created_ms, InstanceRow.id_instance)
        .limit(batch)
    )
    after: tuple[int, int] | None = None
    while True:
        page_stmt = stmt
        if after is not None:
            page_stmt = stmt.where(
                tuple_(InstanceRow.created_ms, InstanceRow.id_instance) > tuple_(*after)
            )
        rows = (await session.execute(page_stmt)).all()
        if rows:
            yield rows
        if len(rows) < batch:
            return
        last = rows[-1]
        after = (last.created_ms, last.id_instance)


async def deleted_page(
    session: AsyncSession, *, partner_id: int, offset: int, limit: int
) -> tuple[int, Sequence[Row[int, str, int, int | None]]]:
    """How many deleted instances the partner has, and ``limit`` of them from ``offset``,
    the latest deletion first: (id, name, created_ms, deleted_ms) each.

    Both read the partial index on (partner_id, deleted_ms, id_instance) alone; the page's
    ids are chosen there first and only those rows are read, so a deep page skips index
    entries, not whole rows.
    """
    where = (InstanceRow.partner_id == partner_id, InstanceRow.deleted_ms.is_not(None))
    order = (InstanceRow.deleted_ms.desc(), InstanceRow.id_instance.desc())
    total = int(await session.scalar(select(func.count()).where(*where)) or 0)
    chosen = (
        select(InstanceRow.id_instance).where(*where).order_by(*order).offset(offset).limit(limit)
    )
    stmt = (
        select(
            InstanceRow.id_instance,
            InstanceRow.name,
            InstanceRow.created_ms,
            InstanceRow.deleted_ms,
        )
        .where(InstanceRow.id_instance.in_(chosen.scalar_subquery()))
        .order_by(*order)
    )
    return total, (await session.execute(stmt)).all()


async def summary(session: AsyncSession, id_instance: int) -> InstanceSummary | None:
    row = (
        await session.execute(
            select(
                InstanceRow.id_instance,
                PartnerRow.name,
                InstanceRow.name,
                InstanceRow.engine,
                InstanceRow.state,
                InstanceRow.wid,
                InstanceRow.created_ms,
                InstanceRow.deleted_ms,
            )
            .join(PartnerRow, PartnerRow.id == InstanceRow.partner_id)
            .where(InstanceRow.id_instance == id_instance)
        )
    ).first()
    if row is None:
        return None
    id_, partner, name, engine, state, wid, created, deleted = row
    return InstanceSummary(id_, partner, name, engine, State(state), wid, created, deleted)


async def view(
    session: AsyncSession, id_instance: int, *, now: int
) -> tuple[InstanceView, str] | None:
    """A live (not deleted, not expired) instance and its token digest, or None."""
    found = await current(session, id_instance)
    if found is None:
        return None
    expires = found[0].expires_ms
    return None if expires is not None and expires <= now else found


async def current(session: AsyncSession, id_instance: int) -> tuple[InstanceView, str] | None:
    """A not deleted instance, expired or not, and its token digest, or None."""
    row = await _row(session, id_instance)
    if row is None or row["deleted_ms"] is not None:
        return None
    return to_view(row), row["token_digest"]


async def owned(
    session: AsyncSession, id_instance: int, *, partner_id: int
) -> tuple[InstanceView, str] | None:
    """A not deleted instance of this partner, expired or not, and its token digest."""
    found = await current(session, id_instance)
    return found if found is not None and found[0].partner_id == partner_id else None


# Whole rows read as plain column mappings: the instance API reads one on every request, and
# an ORM object of this many columns costs several times more to build.
_TABLE = InstanceRow.__table__
_CALLBACK_COLUMNS = tuple((event, f"cb_{event}") for event in CALLBACKS)


async def _row(session: AsyncSession, id_instance: int) -> RowMapping | None:
    stmt = select(_TABLE).where(_TABLE.c.id_instance == id_instance)
    return (await session.execute(stmt)).mappings().first()


def to_view(row: RowMapping) -> InstanceView:
    return InstanceView(
        id_instance=row["id_instance"],
        partner_id=row["partner_id"],
        type_instance=row["type_instance"],
        state=State(row["state"]),
        wid=row["wid"],
        webhook_url=row["webhook_url"],
        webhook_token_cipher=row["webhook_token_cipher"],
        delay_send_ms=row["delay_send_ms"],
        switches={name: row[name] for name in SWITCHES},
        name=row["name"],
        created_ms=row["created_ms"],
        plan=Plan(row["plan"]),
        expires_ms=row["expires_ms"],
        canceled_ms=row["canceled_ms"],
        with_calls=row["with_calls"],
        callbacks={event: row[column] for event, column in _CALLBACK_COLUMNS},
        options={name: row[name] for name in OPTIONS},
    )


async def page(
    session: AsyncSession,
    *,
    partner_id: int,
    filters: Sequence[ColumnElement[bool]],
    offset: int = 0,
    limit: int | None = None,
) -> list[tuple[InstanceView, bytes]]:
    """Not deleted, matching instances of a partner in sequence order, with token ciphers."""
    stmt = (
        select(_TABLE)
        .where(InstanceRow.partner_id == partner_id, InstanceRow.deleted_ms.is_(None), *filters)
        .order_by(InstanceRow.seq)
        .offset(offset)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).mappings()
    return [(to_view(row), row["token_cipher"]) for row in rows]


def seq_window(after: int, upto: int) -> ColumnElement[bool]:
    """Sequence numbers ``after`` < seq <= ``upto``."""
    return and_(InstanceRow.seq > after, InstanceRow.seq <= upto)


def id_in(ids: Sequence[int]) -> ColumnElement[bool]:
    return InstanceRow.id_instance.in_(ids)


async def matching_ids(
    session: AsyncSession,
    *,
    partner_id: int,
    filters: Sequence[ColumnElement[bool]],
    limit: int,
) -> list[int]:
    """The ids of up to ``limit`` matching instances (not deleted), in sequence order."""
    stmt = (
        select(InstanceRow.id_instance)
        .where(InstanceRow.partner_id == partner_id, InstanceRow.deleted_ms.is_(None), *filters)
        .order_by(InstanceRow.seq)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


async def count_matching(
    session: AsyncSession, *, partner_id: int, filters: Sequence[ColumnElement[bool]]
) -> int:
    stmt = select(func.count()).where(
        InstanceRow.partner_id == partner_id, InstanceRow.deleted_ms.is_(None), *filters
    )
    return int(await session.scalar(stmt) or 0)


def middleware_filter(middleware: str) -> ColumnElement[bool]:
    return InstanceRow.middleware == middleware


async def update_values(
    session: AsyncSession, signals: Signals, id_instance: int, values: dict[str, Any]
) -> None:
    """Change columns of one instance; cached views of it are dropped when this commits."""
    await session.execute(
        update(InstanceRow).where(InstanceRow.id_instance == id_instance).values(**values)
    )
    if not values.keys() <= _UNSEEN:
        await signals.send(session, CHANGED_CHANNEL, str(id_instance))


async def bump_epoch(session: AsyncSession, id_instance: int, *, logout: bool) -> None:
    """Ask the owning runner to restart (reboot) or to log out the session."""
    column = InstanceRow.logout_epoch if logout else InstanceRow.session_epoch
    await session.execute(
        update(InstanceRow)
        .where(InstanceRow.id_instance == id_instance)
        .values({column: column + 1})
    )


async def mark_queue_cleared(
    session: AsyncSession, id_instance: int, *, now: int, interval_ms: int
) -> bool:
    """Record a queue clear now, unless the last one was less than ``interval_ms`` ago."""
    result = await session.execute(
        update(InstanceRow)
        .where(
            InstanceRow.id_instance == id_instance,
            InstanceRow.queue_cleared_ms <= now - interval_ms,
        )
        .values(queue_cleared_ms=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def queue_cleared_ms(session: AsyncSession, id_instance: int) -> int:
    stmt = select(InstanceRow.queue_cleared_ms).where(InstanceRow.id_instance == id_instance)
    return int(await session.scalar(stmt) or 0)


async def last_send_ms(session: AsyncSession, id_instance: int) -> int:
    stmt = select(InstanceRow.last_send_ms).where(InstanceRow.id_instance == id_instance)
    return int(await session.scalar(stmt) or 0)
