"""Instance token ciphertexts by server key, for key rotation. Flushes only; the caller commits."""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.repos.instances import CHANGED_CHANNEL
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import InstanceRow

# The first byte of a ciphertext names the key that made it (crypto.py).
_KEY_BYTE = func.substr(InstanceRow.token_cipher, 1, 1)


async def under_other_keys(
    session: AsyncSession, *, key_id: int, after: int, limit: int
) -> list[tuple[int, bytes]]:
    """Up to ``limit`` (id, ciphertext) not made by ``key_id``, ids above ``after``, in id order."""
    stmt = (
        select(InstanceRow.id_instance, InstanceRow.token_cipher)
        .where(InstanceRow.id_instance > after, _KEY_BYTE != bytes([key_id]))
        .order_by(InstanceRow.id_instance)
        .limit(limit)
    )
    return [(int(i), bytes(blob)) for i, blob in (await session.execute(stmt)).all()]


async def replace(
    session: AsyncSession,
    signals: Signals,
    *,
    id_instance: int,
    old: bytes,
    blob: bytes,
    digest: str,
) -> bool:
    """Store a re-encrypted token and its digest, unless the token changed meanwhile."""
    result = await session.execute(
        update(InstanceRow)
        .where(InstanceRow.id_instance == id_instance, InstanceRow.token_cipher == old)
        .values(token_cipher=blob, token_digest=digest)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    # Processes holding the instance in their authentication cache drop the old digest.
    await signals.send(session, CHANGED_CHANNEL, str(id_instance))
    return True


async def count_by_key(session: AsyncSession) -> dict[int, int]:
    """How many instance tokens (deleted instances included) each key id encrypted."""
    stmt = select(_KEY_BYTE, func.count()).group_by(_KEY_BYTE)
    return {bytes(key)[0]: int(n) for key, n in (await session.execute(stmt)).all() if key}
