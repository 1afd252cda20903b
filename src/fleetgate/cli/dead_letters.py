"""`fleetgate dead-letters`: list and replay undelivered notifications of every partner."""

from __future__ import annotations

from typing import Annotated

import orjson
import typer

from fleetgate.cli.common import run_on_db
from fleetgate.context import Context
from fleetgate.domain.notifications import DeadLetter, Queued
from fleetgate.services import notifications
from fleetgate.services.dead_letters import dead_letter_json
from fleetgate.settings import Settings

dead_app = typer.Typer(no_args_is_help=True, help="List and replay undelivered notifications.")


@dead_app.command("list")
def dead_list(
    instance: Annotated[int | None, typer.Option(help="Only this idInstance.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Print dead letters (all partners), oldest first, one JSON object a line."""

    async def work(ctx: Context) -> list[DeadLetter]:
        return await notifications.list_dead(
            db=ctx.db,
            partner_id=None,
            instance_ids=None if instance is None else [instance],
            limit=limit,
        )

    for dead in run_on_db(Settings(), work):
        print(orjson.dumps(dead_letter_json(dead)).decode())


@dead_app.command("replay")
def dead_replay(ids: Annotated[list[int], typer.Argument(help="Dead letter ids.")]) -> None:
    """Queue dead letters again, at the tail of their instances' queues."""

    async def work(ctx: Context) -> list[Queued]:
        return await notifications.replay(db=ctx.db, signals=ctx.signals, partner_id=None, ids=ids)

    fresh = run_on_db(Settings(), work)
    print(f"Replayed {len(fresh)} of {len(ids)} (new ids: {' '.join(str(q.id) for q in fresh)}).")
