"""Instances: create, delete and list a partner's messenger accounts."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.crypto import TokenCipher
from fleetgate.errors import Exhausted, NotFound
from fleetgate.ids import new_instance_id, new_instance_token
from fleetgate.services import engine_calls
from fleetgate.services.config import (
    DELAY_DEFAULT_MS,
    ConfigPatch,
    name_values,
    secret_values,
)
from fleetgate.services.types import InstanceListing, NewInstance, Partner
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.repos import partners as partners_repo
from fleetgate.storage.signals import Signals

TYPE_WHATSAPP = "whatsapp"
DEFAULT_ENGINE = "sandbox"
# Plans (the instance's subscription); how Z-API shows them is in services/subscriptions.py.
TRIAL = "trial"
SUBSCRIBED = "subscribed"
CANCELING = "canceling"
CANCELED = "canceled"
# Random ids collide now and then once a shard prefix fills up; give up only when it is nearly full.
_ID_ATTEMPTS = 50


@dataclass(frozen=True, slots=True)
class Provisioning:
    """Server-side defaults for new instances (from Settings)."""

    id_prefix: int
    tariff: str


async def create_instance(
    *,
    session: AsyncSession,
    signals: Signals,
    cipher: TokenCipher,
    partner: Partner,
    provisioning: Provisioning,
    patch: ConfigPatch,
    plan: str = SUBSCRIBED,
    expires_ms: int | None = None,
) -> NewInstance:
    """Create an instance for a partner with the given settings; returns its id and token.

    ``plan`` and ``expires_ms`` start its subscription (a GREEN-API partner plan renews by
    itself; a Z-API instance starts as a trial that ends at ``expires_ms``).
    """
    patch.validate()
    now = now_ms()
    values: dict[str, object] = {
        "partner_id": partner.id,
        "type_instance": TYPE_WHATSAPP,
        "engine": DEFAULT_ENGINE,
        "tariff": provisioning.tariff,
        "created_ms": now,
        "delay_send_ms": DELAY_DEFAULT_MS,
        "plan": plan,
        "expires_ms": expires_ms,
        # The partner row is locked from here to commit: sequence numbers follow commit order.
        "seq": await partners_repo.next_instance_seq(session, partner.id),
        **patch.values(),
    }
    for _ in range(_ID_ATTEMPTS):
        id_instance = new_instance_id(provisioning.id_prefix)
        token = new_instance_token()
        blob, digest = cipher.seal(token, id_instance=id_instance)
        values |= {
            "id_instance": id_instance,
            **name_values(patch.name or "", id_instance),
            **secret_values(patch, cipher, id_instance),
            "token_cipher": blob,
            "token_digest": digest,
        }
        if await repo.try_insert(session, values):
            # The runners take the new instance at once instead of on their next pass.
            await signals.send(session, engine_calls.RUNNER_CHANNEL, str(id_instance))
            return NewInstance(
                id_instance=id_instance, api_token=token, type_instance=TYPE_WHATSAPP
            )
    raise Exhausted(f"no free idInstance left under prefix {provisioning.id_prefix}")


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
