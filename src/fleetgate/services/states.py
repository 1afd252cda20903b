"""Instance state: changes are recorded in the history and notified in one transaction."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.instances import State, StateChange
from fleetgate.services import outbox
from fleetgate.storage.repos import history
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.signals import Signals

HISTORY_DEFAULT = 100
HISTORY_MAX = 1000


async def record_state(
    *, session: AsyncSession, signals: Signals, id_instance: int, state: State, wid: str
) -> bool:
    """Set the instance's state; True if it changed (then history and outbox have a row)."""
    now = now_ms()
    found = await repo.view(session, id_instance, now=now)
    if found is None:
        return False
    instance, _ = found
    if instance.state == state and instance.wid == wid:
        return False
    await repo.update_values(session, signals, id_instance, {"state": state, "wid": wid})
    await history.append(session, id_instance=id_instance, state=state, wid=wid, now=now)
    await outbox.emit(
        session=session,
        signals=signals,
        instance=replace(instance, state=state, wid=wid),
        type_webhook="stateInstanceChanged",
        fields={"stateInstance": state},
        previous_state=instance.state,
    )
    return True


async def state_history(
    *, session: AsyncSession, id_instance: int, count: int = HISTORY_DEFAULT
) -> list[StateChange]:
    """The newest ``count`` state changes, newest first."""
    return await history.newest(session, id_instance=id_instance, count=count)
