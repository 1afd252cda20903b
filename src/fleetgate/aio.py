"""asyncio helpers for the background loops (runner, delivery worker)."""

from __future__ import annotations

import asyncio


def being_cancelled() -> bool:
    """Whether the current task was asked to stop.

    A loop that logs and carries on after ``except Exception`` must check this: a driver
    cleaning up after a cancellation (a rollback on a connection that was interrupted) can
    raise an ordinary error in place of the CancelledError, and the loop would never end.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


async def cancel_and_wait(task: asyncio.Task[None]) -> None:
    """Cancel a background task and wait until it has ended (its cancellation swallowed)."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling() > 0:
            raise
