"""`fleetgate keys`: the server keys that encrypt instance tokens at rest (docs/security.md)."""

from __future__ import annotations

from contextlib import aclosing
from typing import Annotated

import typer

from fleetgate.cli.common import err, run_on_db
from fleetgate.context import Context
from fleetgate.crypto import TokenCipher
from fleetgate.keyring import KeyRing, KeySource
from fleetgate.services import keyrotation
from fleetgate.settings import Settings

keys_app = typer.Typer(
    no_args_is_help=True, help="Server keys that encrypt instance tokens at rest."
)
# Full passes before giving up on rows that servers keep writing under an older key.
_PASSES = 5


@keys_app.command("rotate")
def rotate(
    batch_size: Annotated[
        int, typer.Option(min=1, max=100_000, help="Tokens re-encrypted per transaction.")
    ] = 500,
    max_batches: Annotated[
        int | None,
        typer.Option(min=1, help="Stop after this many batches (run again to go on)."),
    ] = None,
) -> None:
    """Move every instance token to a new server key, then drop the old key.

    The new key is written to the key file first (the old one kept for decryption), then the
    tokens are re-encrypted in batches. Interrupted, it resumes when run again.
    """
    settings = Settings()
    source = KeySource.for_settings(settings)
    ring = source.load()
    if len(ring.keys) == 1:
        if not source.writable:
            err.print(
                "[red]error:[/red] the key comes from FLEETGATE_SECRET_KEY, which this command "
                "cannot change: add a new ID:HEX key to it in phases, then run this again "
                "(docs/security.md, Key rotation)."
            )
            raise typer.Exit(2)
        ring = ring.with_new_key()
        source.save(ring)
        print(f"New key {ring.current_id} is current; {_old_ids(ring)} decrypt only.")
    else:
        print(f"Moving tokens to key {ring.current_id} from {_old_ids(ring)}.")

    async def work(ctx: Context) -> tuple[int, int]:
        cipher = TokenCipher(ring)
        moved = batches = 0
        for _ in range(_PASSES):
            batched = keyrotation.reencrypt_batches(
                db=ctx.db, signals=ctx.signals, cipher=cipher, batch=batch_size
            )
            async with aclosing(batched):
                async for count in batched:
                    moved += count
                    batches += 1
                    if max_batches is not None and batches >= max_batches:
                        return moved, await _left(ctx, ring)
            left = await _left(ctx, ring)
            if not left:
                break
        return moved, left

    moved, left = run_on_db(settings, work)
    print(f"{moved} tokens re-encrypted under key {ring.current_id}.")
    if left:
        print(f"{left} tokens are still under {_old_ids(ring)}; run this again to go on.")
        raise typer.Exit(0 if max_batches is not None else 1)
    if source.writable:
        source.save(ring.current_only())
        print("Old keys dropped from the key file; running servers forget them when restarted.")
    else:
        print(
            f"Every token is under key {ring.current_id}: remove the other keys from "
            "FLEETGATE_SECRET_KEY and restart the servers."
        )


@keys_app.command("status")
def status() -> None:
    """The keys of the key ring, and how many instance tokens each encrypted."""
    settings = Settings()
    ring = KeySource.for_settings(settings).load()

    async def work(ctx: Context) -> dict[int, int]:
        return await keyrotation.tokens_by_key(db=ctx.db)

    counts = run_on_db(settings, work)
    for key_id in ring.ids:
        role = "current" if key_id == ring.current_id else "decrypt only"
        print(f"key {key_id}: {role}, {counts.pop(key_id, 0)} tokens")
    for key_id, count in sorted(counts.items()):
        print(f"key {key_id}: NOT IN THE KEY RING, {count} tokens")


async def _left(ctx: Context, ring: KeyRing) -> int:
    counts = await keyrotation.tokens_by_key(db=ctx.db)
    return sum(n for key_id, n in counts.items() if key_id != ring.current_id)


def _old_ids(ring: KeyRing) -> str:
    ids = [str(i) for i in ring.ids[1:]]
    return ("key " if len(ids) == 1 else "keys ") + ", ".join(ids)
