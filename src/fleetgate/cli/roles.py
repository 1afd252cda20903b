"""What one `fleetgate serve` process runs (its role), and the processes without HTTP (the
runner and delivery roles, `fleetgate delivery`)."""

from __future__ import annotations

import asyncio
import logging
import signal
from contextlib import AsyncExitStack
from enum import StrEnum

from fleetgate.background import start_background
from fleetgate.cli.common import run_on_db
from fleetgate.context import Context
from fleetgate.logs import configure_logging
from fleetgate.settings import Settings

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
