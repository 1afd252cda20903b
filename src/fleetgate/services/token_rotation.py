"""New tokens for every instance of a partner, after its partner token leaked (docs/security.md).

getInstances shows every instance token to whoever holds the partner token, so revoking a
leaked partner token leaves its instance tokens working. This gives each live instance a new
token, a batch per transaction; each new token replaces the old at commit, and the signal
that commit sends drops the old one from the authentication caches (services/instance_cache.py).
The partner row records the last instance done, so an interrupted run goes on from there.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from fleetgate.crypto import TokenCipher
from fleetgate.errors import NotFound
from fleetgate.services import account
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import partners as repo
from fleetgate.storage.signals import Signals


async def start(*, db: Database, name: str) -> tuple[int, bool]:
    """The partner's id (revoked or not), and whether an earlier rotation is being resumed."""
    async with db.transaction() as session:
        partner = await repo.by_name(session, name)
        if partner is None:
            raise NotFound(f"no partner named {name!r}")
        resumed = await repo.rotation_after(session, partner.id) is not None
        if not resumed:
            await repo.set_rotation_after(session, partner.id, 0)
    return partner.id, resumed


async def rotate_batches(
    *, db: Database, signals: Signals, cipher: TokenCipher, partner_id: int, batch: int = 500
) -> AsyncGenerator[int, None]:
    """Give the partner's live instances new tokens from where the rotation stands.

    Yields each batch's count; the rotation is marked finished with the last batch.
    """
    while True:
        async with db.transaction() as session:
            after = await repo.rotation_after(session, partner_id)
            if after is None:
                return  # another run finished it meanwhile
            ids = await instances_repo.live_ids_after(
                session, partner_id=partner_id, after=after, limit=batch
            )
            for id_instance in ids:
                await account.rotate_token(
                    session=session, signals=signals, cipher=cipher, id_instance=id_instance
                )
            done = len(ids) < batch
            await repo.set_rotation_after(session, partner_id, None if done else ids[-1])
        if ids:
            yield len(ids)
        if done:
            return


async def left(*, db: Database, partner_id: int) -> int | None:
    """How many live instances an unfinished rotation has still to do; None if none runs."""
    async with db.reading() as session:
        after = await repo.rotation_after(session, partner_id)
        if after is None:
            return None
        return await instances_repo.count_live_after(session, partner_id=partner_id, after=after)
