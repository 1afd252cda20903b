"""Moving instance tokens to the current server key (``fleetgate keys rotate``, docs/security.md).

Each batch is one transaction that re-encrypts tokens (and webhookUrlTokens) and recomputes
their digests under the current key, row by row, so a token is always readable under exactly
the key its first byte names. Stopping at any point loses nothing: running again picks up
the rows still under an older key.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator

from cryptography.exceptions import InvalidTag

from fleetgate.crypto import INSTANCE_TOKEN, WEBHOOK_TOKEN, TokenCipher
from fleetgate.errors import FleetgateError
from fleetgate.storage.db import Database
from fleetgate.storage.repos import tokens as repo
from fleetgate.storage.signals import Signals


async def reencrypt_batches(
    *, db: Database, signals: Signals, cipher: TokenCipher, batch: int = 500
) -> AsyncGenerator[int, None]:
    """Re-encrypt every token not under ``cipher``'s current key; yields each batch's count."""
    after = 0
    while True:
        moved = 0
        async with db.transaction() as session:
            rows = await repo.under_other_keys(
                session, key_id=cipher.current_id, after=after, limit=batch
            )
            for old in rows:
                id_instance, token_blob, webhook_blob = old
                token = _decrypt(cipher, token_blob, id_instance)
                blob, digest = cipher.seal(token, id_instance=id_instance)
                if webhook_blob is not None:
                    secret = _decrypt(cipher, webhook_blob, id_instance, WEBHOOK_TOKEN)
                    webhook_blob = cipher.encrypt(
                        secret, id_instance=id_instance, field=WEBHOOK_TOKEN
                    )
                if await repo.replace(
                    session, signals, old=old, blob=blob, digest=digest, webhook_blob=webhook_blob
                ):
                    moved += 1
        if rows:
            yield moved
        if len(rows) < batch:
            return
        after = rows[-1][0]


def _decrypt(
    cipher: TokenCipher, blob: bytes, id_instance: int, field: str = INSTANCE_TOKEN
) -> str:
    try:
        return cipher.decrypt(blob, id_instance=id_instance, field=field)
    except (InvalidTag, ValueError):
        key_id = blob[0] if blob else "none"
        what = "webhookUrlToken" if field else "token"
        raise FleetgateError(
            f"the {what} of instance {id_instance} (key id {key_id}) cannot be decrypted with "
            "the keys in the key ring; nothing was dropped, add the missing key and run again"
        ) from None


async def tokens_by_key(*, db: Database) -> dict[int, int]:
    """How many instance tokens and webhookUrlTokens each key id encrypted."""
    async with db.reading() as session:
        return await repo.count_by_key(session)
