"""`fleetgate delivery` and `fleetgate dead-letters`: the delivery worker and its dead letters."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Annotated

import orjson
import typer

from fleetgate.cli.common import run_on_db
from fleetgate.context import Context, webhook_client
from fleetgate.services import notifications
from fleetgate.settings import Settings

dead_app = typer.Typer(no_args_is_help=True, help="List and replay undelivered notifications.")


def delivery() -> None:
    """Run only the webhook delivery worker (several may run against one PostgreSQL)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings()

    async def work(ctx: Context) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await ctx.signals.start()
        try:
            async with webhook_client(settings.delivery.concurrency) as http:
                worker = ctx.new_delivery_worker(http)
                await worker.start()
                logging.getLogger(__name__).info("delivery worker %s running", worker.id)
                await stop.wait()
                await worker.stop()
        finally:
            await ctx.signals.stop()

    run_on_db(settings, work)


@dead_app.command("list")
def dead_list(
    instance: Annotated[int | None, typer.Option(help="Only this idInstance.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Print dead letters (all partners), oldest first, one JSON object a line."""
    from fleetgate.api.admin.dead_letters import dead_letter_json

    async def work(ctx: Context) -> list[notifications.DeadLetter]:
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

    async def work(ctx: Context) -> list[notifications.Queued]:
        return await notifications.replay(db=ctx.db, signals=ctx.signals, partner_id=None, ids=ids)

    fresh = run_on_db(Settings(), work)
    print(f"Replayed {len(fresh)} of {len(ids)} (new ids: {' '.join(str(q.id) for q in fresh)}).")
