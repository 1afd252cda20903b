"""being_cancelled: a loop that survives errors still ends when its task is cancelled."""

from __future__ import annotations

import asyncio

import pytest

from fleetgate.aio import being_cancelled


async def _resilient_loop(errors: list[str]) -> None:
    """Carries on after any error, as the background loops do, unless it is being cancelled."""
    while True:
        try:
            try:
                await asyncio.sleep(10)
            except asyncio.CancelledError:
                # What a driver's clean-up after an interrupted query can do.
                raise RuntimeError("rollback on a closed connection") from None
        except Exception as exc:
            errors.append(str(exc))
            if being_cancelled():
                raise


async def test_a_cancelled_loop_ends_even_if_cancellation_turns_into_an_error() -> None:
    errors: list[str] = []
    task = asyncio.create_task(_resilient_loop(errors))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(RuntimeError):
        await asyncio.wait_for(task, 2)
    assert errors == ["rollback on a closed connection"]


async def test_not_cancelled_outside_a_cancellation() -> None:
    assert not being_cancelled()
