"""Subscriptions and the Z-API partner list: trial -> subscribed -> canceling -> canceled.

A Z-API instance starts as a trial that works until ``expires_ms``; a subscription renews by
itself each calendar month (no expiry); canceling keeps it working to the end of the current
month; then it is canceled. A trial that ends unsubscribed is expired. Expired and canceled
instances stop working (their tokens are refused) but stay until deleted.
"""

from __future__ import annotations

import calendar
import time
from dataclasses import dataclass

from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.crypto import TokenCipher
from fleetgate.domain.config import ConfigPatch
from fleetgate.domain.instances import InstanceView, PaymentStatus, Plan, State
from fleetgate.domain.partners import Partner
from fleetgate.errors import Conflict, InvalidInput, NotFound
from fleetgate.services import engine_calls, instances
from fleetgate.services.instances import InstanceOrder, Provisioning
from fleetgate.storage import search
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.repos import partners as partners_repo
from fleetgate.storage.signals import Signals

PAGE_SIZE_MAX = 200
# Up to this many matches, a search reads all their ids at once and pages them in memory.
SEARCH_CAP = 1000
STRICT = "strict"
DISCONNECTED = "disconnected"
# What a partner sees as paymentStatus of each plan.
SHOWN = {
    Plan.TRIAL: PaymentStatus.TRIAL,
    Plan.SUBSCRIBED: PaymentStatus.SUBSCRIBED,
    Plan.CANCELING: PaymentStatus.CANCELING,
    Plan.CANCELED: PaymentStatus.CANCELED,
}


@dataclass(frozen=True, slots=True)
class SubscriptionPolicy:
    """Trial length and the rules for deleting an instance (from Settings)."""

    trial_ms: int
    deletion_rule: str
    deletion_grace_ms: int


@dataclass(frozen=True, slots=True)
class ListedInstance:
    """One instance of a Z-API list page, with its token in clear."""

    instance: InstanceView
    token: str


@dataclass(frozen=True, slots=True)
class InstancePage:
    total: int
    total_pages: int
    items: list[ListedInstance]


def payment_status(instance: InstanceView, now: int) -> PaymentStatus:
    """TRIAL, SUBSCRIBED, CANCELING, CANCELED, or EXPIRED (a trial that ran out)."""
    ended = instance.expires_ms is not None and instance.expires_ms <= now
    if instance.plan == Plan.TRIAL and ended:
        return PaymentStatus.EXPIRED
    if instance.plan == Plan.CANCELING and ended:
        return PaymentStatus.CANCELED
    return SHOWN.get(instance.plan, PaymentStatus.SUBSCRIBED)


def due_ms(instance: InstanceView, now: int) -> int:
    """When the instance stops working, or (subscribed) when the current month is paid up to."""
    return instance.expires_ms if instance.expires_ms is not None else month_end(now)


def month_end(now: int) -> int:
    """The first millisecond of the next calendar month (UTC): the end of a billing period."""
    year, month = time.gmtime(now // 1000)[:2]
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return calendar.timegm((year, month, 1, 0, 0, 0)) * 1000


def trial_order(
    *,
    partner: Partner,
    provisioning: Provisioning,
    policy: SubscriptionPolicy,
    patch: ConfigPatch,
) -> tuple[InstanceOrder, int]:
    """A trial instance to create with the given settings; it and when its trial ends."""
    due = now_ms() + policy.trial_ms
    order = instances.instance_order(
        partner=partner, provisioning=provisioning, patch=patch, plan=Plan.TRIAL, expires_ms=due
    )
    return order, due


async def partner_instance(
    *, session: AsyncSession, cipher: TokenCipher, partner: Partner, id_instance: int, token: str
) -> InstanceView:
    """The partner's instance (expired or not) if ``token`` is its token; else NotFound."""
    found = await repo.owned(session, id_instance, partner_id=partner.id)
    matches = cipher.check(token, found[1] if found else None)  # checked for unknown ids too
    if found is None or not matches:
        raise NotFound("Instance not found")
    return found[0]


async def subscribe(
    *, session: AsyncSession, signals: Signals, instance: InstanceView, with_calls: bool | None
) -> None:
    """Start (or keep) a monthly subscription; it no longer expires."""
    values: dict[str, object] = {"plan": Plan.SUBSCRIBED, "expires_ms": None, "canceled_ms": None}
    if with_calls is not None:
        values["with_calls"] = with_calls
    await repo.update_values(session, signals, instance.id_instance, values)
    # An expired or canceled instance comes back: a runner starts its session at once.
    await signals.send(session, engine_calls.RUNNER_CHANNEL, str(instance.id_instance))


async def cancel(*, session: AsyncSession, signals: Signals, instance: InstanceView) -> None:
    """Cancel: a trial ends now; a subscription works to the end of the month it is in."""
    now = now_ms()
    status = payment_status(instance, now)
    if status in (PaymentStatus.CANCELING, PaymentStatus.CANCELED):
        return  # already canceled: nothing changes, not even the cancellation date
    if instance.plan == Plan.TRIAL:
        values: dict[str, object] = {
            "plan": Plan.CANCELED,
            "expires_ms": min(now, due_ms(instance, now)),
        }
    else:
        values = {"plan": Plan.CANCELING, "expires_ms": month_end(now)}
    await repo.update_values(session, signals, instance.id_instance, values | {"canceled_ms": now})
    await signals.send(session, engine_calls.RUNNER_CHANNEL, str(instance.id_instance))


async def add_calls(*, session: AsyncSession, signals: Signals, instance: InstanceView) -> None:
    """Add calls to a running subscription (there is no way back but cancel and subscribe)."""
    if payment_status(instance, now_ms()) != PaymentStatus.SUBSCRIBED:
        raise InvalidInput("the instance has no active subscription to update")
    await repo.update_values(session, signals, instance.id_instance, {"with_calls": True})


def deletion_refusal(instance: InstanceView, policy: SubscriptionPolicy, now: int) -> str | None:
    """Why the instance may not be deleted yet, or None if it may."""
    if instance.state == State.AUTHORIZED:
        return "the instance is connected; disconnect it first"
    if policy.deletion_rule == DISCONNECTED:
        return None
    status = payment_status(instance, now)
    if status == PaymentStatus.TRIAL:
        return "the instance is in its trial; cancel it or let it expire first"
    if status not in (PaymentStatus.CANCELED, PaymentStatus.EXPIRED):
        return "the instance's subscription is active; cancel it first"
    # Canceled (or expired) at the end of its period: the grace period counts from then.
    ended = instance.expires_ms if instance.expires_ms is not None else now
    if ended + policy.deletion_grace_ms > now:
        return "the grace period after cancellation has not passed yet"
    return None


async def delete(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    instance: InstanceView,
    policy: SubscriptionPolicy,
) -> None:
    """Delete the instance if the deletion rules allow it now; Conflict says why not."""
    refusal = deletion_refusal(instance, policy, now_ms())
    if refusal is not None:
        raise Conflict(refusal)
    await instances.delete_instance(
        session=session, signals=signals, partner=partner, id_instance=instance.id_instance
    )


async def list_page(
    *,
    session: AsyncSession,
    cipher: TokenCipher,
    partner: Partner,
    page: int,
    page_size: int,
    query: str | None,
    middleware: str | None,
) -> InstancePage:
    """One page of the partner's instances (not deleted), in creation order.

    Unfiltered, page n is the n-th window of ``page_size`` creation sequence numbers: an
    instance never moves to another page when others are created or deleted (a page can hold
    fewer items after deletions). With a search or a type filter, pages are plain slices of
    the matches.
    """
    if page < 1:
        raise InvalidInput("page must be 1 or more")
    if not 1 <= page_size <= PAGE_SIZE_MAX:
        raise InvalidInput(f"pageSize must be from 1 to {PAGE_SIZE_MAX}")
    start = (page - 1) * page_size
    if not query and not middleware:
        last_seq, total = await partners_repo.instance_counts(session, partner.id)
        rows = []
        if start < last_seq:  # (a page past the end needs no query, however far it is)
            window = repo.seq_window(start, start + page_size)
            rows = await repo.page(session, partner_id=partner.id, filters=[window])
        pages = -(-last_seq // page_size)
    else:
        total, rows = await _filtered(session, partner, query, middleware, start, page_size)
        pages = -(-total // page_size)
    items = [
        ListedInstance(view, cipher.decrypt(blob, id_instance=view.id_instance))
        for view, blob in rows
    ]
    return InstancePage(total=total, total_pages=pages, items=items)


async def _filtered(
    session: AsyncSession,
    partner: Partner,
    query: str | None,
    middleware: str | None,
    start: int,
    size: int,
) -> tuple[int, list[tuple[InstanceView, bytes]]]:
    """(matches, one page of them) for a search or a type filter.

    A search usually matches few instances: their ids are read once (narrowed by the trigram
    index), then counted and sliced here. Past SEARCH_CAP matches it counts and pages in SQL.
    """
    filters: list[ColumnElement[bool]] = []
    if query:
        filters.append(search.contains(query))
        hits = await search.fts_hits(session, query, limit=SEARCH_CAP)
        if hits is not None:
            filters.append(repo.id_in(hits))
    if middleware:
        filters.append(repo.middleware_filter(middleware))
    ids = await repo.matching_ids(
        session, partner_id=partner.id, filters=filters, limit=SEARCH_CAP + 1
    )
    if len(ids) <= SEARCH_CAP:
        chosen = ids[start : start + size]
        rows = await repo.page(session, partner_id=partner.id, filters=[repo.id_in(chosen)])
        return len(ids), rows
    total = await repo.count_matching(session, partner_id=partner.id, filters=filters)
    rows = await repo.page(
        session, partner_id=partner.id, filters=filters, offset=start, limit=size
    )
    return total, rows
