"""Instances: create, delete and list a partner's messenger accounts."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.crypto import TokenCipher
from fleetgate.domain.config import DELAY_DEFAULT_MS, ConfigPatch
from fleetgate.domain.instances import InstanceListing, InstanceSummary, NewInstance, Plan
from fleetgate.domain.partners import Partner
from fleetgate.errors import Exhausted, NotAuthenticated, NotFound
from fleetgate.ids import new_instance_id, new_instance_token
from fleetgate.services import engine_calls
from fleetgate.services.config import name_values, secret_values
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.repos import partners as partners_repo
from fleetgate.storage.signals import Signals

TYPE_WHATSAPP = "whatsapp"
# Random ids collide now and then once a shard prefix fills up; give up only when it is nearly full.
_ID_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class Provisioning:
    """Server-side defaults for new instances (from Settings)."""

    id_prefix: int
    tariff: str
    # The engine of new instances whose partner names none.
    engine: str


@dataclass(frozen=True, slots=True)
class InstanceOrder:
    """A new instance's row, validated, before its id, token and sequence number are drawn."""

    partner_id: int
    name: str
    values: dict[str, object]
    id_prefix: int
    # The settings asked for: the webhookUrlToken is encrypted once the id is drawn.
    patch: ConfigPatch


def instance_order(
    *,
    partner: Partner,
    provisioning: Provisioning,
    patch: ConfigPatch,
    plan: Plan = Plan.SUBSCRIBED,
    expires_ms: int | None = None,
) -> InstanceOrder:
    """Check the settings of an instance to create; what ``insert_instances`` stores.

    ``plan`` and ``expires_ms`` start its subscription (a GREEN-API partner plan renews by
    itself; a Z-API instance starts as a trial that ends at ``expires_ms``).
    """
    patch.validate()
    values: dict[str, object] = {
        "partner_id": partner.id,
        "type_instance": TYPE_WHATSAPP,
        "engine": partner.default_engine or provisioning.engine,
        "tariff": provisioning.tariff,
        "created_ms": now_ms(),
        "delay_send_ms": DELAY_DEFAULT_MS,
        "plan": plan,
        "expires_ms": expires_ms,
        **patch.values(),
    }
    return InstanceOrder(partner.id, patch.name or "", values, provisioning.id_prefix, patch)


async def insert_instances(
    *, session: AsyncSession, signals: Signals, cipher: TokenCipher, orders: list[InstanceOrder]
) -> list[NewInstance]:
    """Store new instances, in order: their ids and tokens.

    Each partner's sequence numbers are taken in one statement, which locks the partner row
    until commit, so they follow commit order. Ids are drawn at random and drawn again for the
    few that turn out to be taken. NotAuthenticated if a partner was revoked meanwhile.
    """
    seqs: dict[int, int] = {}
    for partner_id, count in Counter(o.partner_id for o in orders).items():
        first = await partners_repo.take_instance_seqs(session, partner_id, count)
        if first is None:  # revoked since its token was checked
            raise NotAuthenticated()
        seqs[partner_id] = first
    rows: list[dict[str, object]] = []
    for order in orders:
        rows.append({**order.values, "seq": seqs[order.partner_id]})
        seqs[order.partner_id] += 1
    tokens = [new_instance_token() for _ in orders]
    pending = list(range(len(orders)))
    for _ in range(_ID_ATTEMPTS):
        ids: set[int] = set()
        for i in pending:
            id_instance = _draw_id(orders[i].id_prefix, ids)
            blob, digest = cipher.seal(tokens[i], id_instance=id_instance)
            rows[i] |= {
                "id_instance": id_instance,
                **name_values(orders[i].name, id_instance),
                **secret_values(orders[i].patch, cipher, id_instance),
                "token_cipher": blob,
                "token_digest": digest,
            }
        stored = await repo.insert_new(session, [rows[i] for i in pending])
        pending = [i for i in pending if rows[i]["id_instance"] not in stored]
        if not pending:
            break
    else:
        raise Exhausted(f"no free idInstance left under prefix {orders[pending[0]].id_prefix}")
    made = [int(str(row["id_instance"])) for row in rows]
    for id_instance in made:
        # The runners take the new instance at once instead of on their next pass.
        await signals.send(session, engine_calls.RUNNER_CHANNEL, str(id_instance))
    return [
        NewInstance(id_instance, token, TYPE_WHATSAPP)
        for id_instance, token in zip(made, tokens, strict=True)
    ]


def _draw_id(prefix: int, drawn: set[int]) -> int:
    """A random id not drawn yet in this round (the database says whether it is free)."""
    while (id_instance := new_instance_id(prefix)) in drawn:
        pass
    drawn.add(id_instance)
    return id_instance


async def create_instance(
    *,
    session: AsyncSession,
    signals: Signals,
    cipher: TokenCipher,
    partner: Partner,
    provisioning: Provisioning,
    patch: ConfigPatch,
    plan: Plan = Plan.SUBSCRIBED,
    expires_ms: int | None = None,
) -> NewInstance:
    """Create an instance for a partner in this transaction (see ``instance_order``)."""
    order = instance_order(
        partner=partner, provisioning=provisioning, patch=patch, plan=plan, expires_ms=expires_ms
    )
    [made] = await insert_instances(session=session, signals=signals, cipher=cipher, orders=[order])
    return made


async def delete_instance(
    *, session: AsyncSession, signals: Signals, partner: Partner, id_instance: int
) -> None:
    """Delete a live instance of this partner; it stays listed as deleted, its session stops."""
    if not await repo.mark_deleted(
        session, signals, partner_id=partner.id, id_instance=id_instance, now=now_ms()
    ):
        raise NotFound("Not found")
    await partners_repo.instance_deleted(session, partner.id)
    await signals.send(session, engine_calls.RUNNER_CHANNEL, str(id_instance))


async def summary(*, session: AsyncSession, id_instance: int) -> InstanceSummary:
    """An instance as an operator sees it: its partner, engine and state (NotFound if none)."""
    found = await repo.summary(session, id_instance)
    if found is None:
        raise NotFound(f"no instance {id_instance}")
    return found


async def list_instances(
    *, session: AsyncSession, cipher: TokenCipher, partner: Partner, batch: int = 1000
) -> AsyncIterator[list[InstanceListing]]:
    """Every instance the partner ever created, deleted ones included, in creation order."""
    decrypt = cipher.decrypt
    async for rows in repo.listing_batches(session, partner_id=partner.id, batch=batch):
        # Rows unpacked by position: named access on a Row costs several times more.
        yield [
            InstanceListing(
                id_instance, name, kind, decrypt(blob, id_instance=id_instance), tariff, c, d, e
            )
            for id_instance, name, kind, blob, tariff, c, d, e in rows
        ]
