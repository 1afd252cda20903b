"""Processes without HTTP (the runner and delivery roles, `fleetgate delivery`) and
`fleetgate dead-letters`."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from enum import StrEnum
from typing import Annotated

import orjson
import typer

from fleetgate.background import start_background
from fleetgate.cli.common import run_on_db
from fleetgate.context import Context
from fleetgate.domain.notifications import DeadLetter, Queued
from fleetgate.logs import configure_logging
from fleetgate.services import notifications
from fleetgate.settings import Settings

dead_app = typer.Typer(no_args_is_help=True, help="List and replay undelivered notifications.")
log = logging.getLogger(__name__)


class Role(StrEnum):
    """What one `fleetgate serve` process runs."""

    ALL = "all"
    API = "api"
    RUNNER = "runner"
    DELIVERY = "delivery"

    @property
    def serves_http(self) -> bool:
        return self in (Role.ALL, Role.API)


def for_role(settings: Settings, role: Role) -> Settings:
    """The settings with the runner and the delivery worker switched on or off for ``role``.

    ``all`` keeps what the settings say (``FLEETGATE_RUNNER__ENABLED`` and so on).
    """
    if role is not Role.ALL:
        settings.runner.enabled = role is Role.RUNNER
        settings.delivery.enabled = role is Role.DELIVERY
    return settings


def run_background(settings: Settings) -> None:
    """Run the background work the settings enable, without HTTP, until SIGTERM or SIGINT."""
    configure_logging(settings)

    async def work(ctx: Context) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await ctx.signals.start()
        async with AsyncExitStack() as stack:
            stack.push_async_callback(ctx.signals.stop)
            for name in await start_background(ctx, stack):
                log.info("%s running", name)
            await stop.wait()
            log.info("stopping")

    run_on_db(settings, work)


def delivery() -> None:
    """Run only the webhook delivery worker (several may run against one PostgreSQL)."""
    run_background(for_role(Settings(), Role.DELIVERY))


@dead_app.command("list")
def dead_list(
    instance: Annotated[int | None, typer.Option(help="Only this idInstance.")] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000)] = 100,
) -> None:
    """Print dead letters (all partners), oldest first, one JSON object a line."""
    from fleetgate.api.admin.dead_letters import dead_letter_json

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
