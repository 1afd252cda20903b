"""`fleetgate partner rotate-instance-tokens` and `new-token`: after a partner token leaked."""

from __future__ import annotations

from contextlib import aclosing
from typing import Annotated

import orjson
import typer

from fleetgate.cli.common import run_on_db
from fleetgate.context import Context
from fleetgate.services import partners, token_rotation
from fleetgate.settings import Settings

BatchSize = Annotated[
    int, typer.Option(min=1, max=100_000, help="Instance tokens replaced per transaction.")
]
MaxBatches = Annotated[
    int | None, typer.Option(min=1, help="Stop after this many batches (run again to go on).")
]


def rotate_instance_tokens(
    name: str, batch_size: BatchSize = 500, max_batches: MaxBatches = None
) -> None:
    """Give every instance of the partner a new token; the old ones stop working.

    For a leaked partner token (getInstances shows every instance token). Prints counts only:
    the new tokens reach the partner through getInstances, with a partner token issued by
    `fleetgate partner new-token`. Interrupted, it goes on where it stopped when run again.
    """
    rotate(Settings(), name, batch_size=batch_size, max_batches=max_batches)


def rotate(settings: Settings, name: str, *, batch_size: int, max_batches: int | None) -> None:
    """Run the rotation and print its counts (shared with `partner revoke`)."""

    async def work(ctx: Context) -> tuple[bool, int, int | None]:
        partner_id, resumed = await token_rotation.start(db=ctx.db, name=name)
        done = batches = 0
        batched = token_rotation.rotate_batches(
            db=ctx.db,
            signals=ctx.signals,
            cipher=ctx.cipher,
            partner_id=partner_id,
            batch=batch_size,
        )
        async with aclosing(batched):
            async for count in batched:
                done += count
                batches += 1
                if max_batches is not None and batches >= max_batches:
                    break
        return resumed, done, await token_rotation.left(db=ctx.db, partner_id=partner_id)

    resumed, done, left = run_on_db(settings, work)
    if resumed:
        print(f"Went on with the rotation of {name!r} that stopped before.")
    print(f"{done} instance tokens of partner {name!r} replaced; the old ones no longer work.")
    if left is not None:
        print(f"{left} instances still have their old token; run this again to go on.")
    else:
        print("Every instance of the partner has a new token (getInstances shows them).")


def new_token(
    name: str,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Give the partner a new token (printed once, last); the old one stops working.

    A revoked partner becomes active again with it.
    """

    async def work(ctx: Context) -> tuple[str, bool]:
        async with ctx.db.transaction() as session:
            return await partners.replace_partner_token(session=session, name=name)

    token, was_revoked = run_on_db(Settings(), work)
    if as_json:
        print(orjson.dumps({"name": name, "partnerToken": token}).decode())
        return
    again = " and is active again" if was_revoked else ""
    print(f"Partner {name!r} has a new token{again}; the old one no longer works.")
    print("Its token (shown once):")
    print(token)
