"""Ciphertexts by server key, for key rotation: each instance's token and webhookUrlToken.

Flushes only; the caller commits.
"""

from __future__ import annotations

from sqlalchemy import func, select, union_all, update
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.storage.repos.instances import CHANGED_CHANNEL
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import InstanceRow

# The first byte of a ciphertext names the key that made it (crypto.py).
_KEY_BYTE = func.substr(InstanceRow.token_cipher, 1, 1)
_WEBHOOK_KEY_BYTE = func.substr(InstanceRow.webhook_token_cipher, 1, 1)

Sealed = tuple[int, bytes, bytes | None]


async def under_other_keys(
    session: AsyncSession, *, key_id: int, after: int, limit: int
) -> list[Sealed]:
    """Up to ``limit`` (id, token ciphertext, webhookUrlToken ciphertext) of instances with
    either not made by ``key_id``, ids above ``after``, in id order."""
    current = bytes([key_id])
    stmt = (
        select(InstanceRow.id_instance, InstanceRow.token_cipher, InstanceRow.webhook_token_cipher)
        .where(
            InstanceRow.id_instance > after,
            (_KEY_BYTE != current) | (_WEBHOOK_KEY_BYTE != current),  # NULL: no webhook token
        )
        .order_by(InstanceRow.id_instance)
        .limit(limit)
    )
    rows = (await session.execute(stmt)).all()
    return [(int(i), bytes(t), None if w is None else bytes(w)) for i, t, w in rows]


async def replace(
    session: AsyncSession,
    signals: Signals,
    *,
    old: Sealed,
    blob: bytes,
    digest: str,
    webhook_blob: bytes | None,
) -> bool:
    """Store a re-encrypted token, its digest and the re-encrypted webhookUrlToken, unless
    either changed meanwhile."""
    id_instance, old_blob, old_webhook = old
    result = await session.execute(
        update(InstanceRow)
        .where(
            InstanceRow.id_instance == id_instance,
            InstanceRow.token_cipher == old_blob,
            InstanceRow.webhook_token_cipher.is_not_distinct_from(old_webhook),
        )
        .values(token_cipher=blob, token_digest=digest, webhook_token_cipher=webhook_blob)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return False
    # Processes holding the instance in their authentication cache drop the old digest.
    await signals.send(session, CHANGED_CHANNEL, str(id_instance))
    return True


async def count_by_key(session: AsyncSession) -> dict[int, int]:
    """How many instance tokens and webhookUrlTokens (deleted instances included) each key id
    encrypted."""
    both = union_all(
        select(_KEY_BYTE.label("key")),
        select(_WEBHOOK_KEY_BYTE.label("key")).where(InstanceRow.webhook_token_cipher.is_not(None)),
    ).subquery()
    stmt = select(both.c.key, func.count()).group_by(both.c.key)
    return {bytes(k)[0]: int(n) for k, n in (await session.execute(stmt)).all() if k}
