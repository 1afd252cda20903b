"""The background work of a process: the runner (and the media sweep beside it) and the
delivery worker, as its settings say.

`fleetgate serve` starts them in the app's lifespan; the `runner` and `delivery` roles start
them alone. Either way they are stopped through the same exit stack, so a clean stop always
releases the runner's instances and gives deliveries in flight their grace period.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

from fleetgate.aio import cancel_and_wait
from fleetgate.context import Context, webhook_client


async def start_background(ctx: Context, stack: AsyncExitStack) -> list[str]:
    """Start what ``ctx.settings`` enables, pushing each stop onto ``stack``; their names."""
    started: list[str] = []
    if ctx.settings.runner.enabled:
        runner = ctx.new_runner()
        await runner.start()
        stack.push_async_callback(runner.stop)
        started.append(f"runner {runner.id}")
        sweep = asyncio.create_task(
            ctx.media.sweep_forever(ctx.settings.media.sweep_interval_s), name="media sweep"
        )
        stack.push_async_callback(cancel_and_wait, sweep)
    if ctx.settings.delivery.enabled:
        http = await stack.enter_async_context(webhook_client(ctx.settings.delivery.concurrency))
        worker = ctx.new_delivery_worker(http)
        await worker.start()
        # Pushed last, so it stops first: the runner keeps answering while deliveries finish.
        stack.push_async_callback(worker.stop, ctx.settings.delivery.stop_grace_s)
        started.append(f"delivery worker {worker.id}")
    return started
