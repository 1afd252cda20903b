"""Group changes told to the members of a sandbox group, as network events of their own kind.

Each member phone (and a phone that just left or was removed) gets one event per change; a
session linked to it reports it through ``SessionEvents.group_changed``. Virtual phones get
them too and ignore them (their inbox shows messages only).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.groups import GroupEvent, GroupNotification
from fleetgate.engines.sandbox import network
from fleetgate.ids import new_message_id
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import SandboxGroupMemberRow, SandboxGroupRow

GROUP = "group"


async def tell(
    session: AsyncSession,
    signals: Signals,
    group: SandboxGroupRow,
    notification: GroupNotification,
    *,
    actor: str,
    parameters: Iterable[str] = (),
    also: Iterable[str] = (),
    only: Iterable[str] | None = None,
    request_method: str = "",
) -> None:
    """Tell the group's members (or ``only`` these phones), and the phones in ``also``, that
    ``actor`` changed the group. One event id for all of them: the same change."""
    if only is None:
        stmt = select(SandboxGroupMemberRow.phone).where(
            SandboxGroupMemberRow.group_id == group.group_id
        )
        to = list(await session.scalars(stmt))
    else:
        to = list(only)
    payload: dict[str, Any] = {
        "groupId": group.group_id,
        "groupName": group.subject,
        "notification": str(notification),
        "parameters": list(parameters),
        "requestMethod": request_method,
    }
    id_event = new_message_id()
    for phone in dict.fromkeys([*to, *also]):
        await network.post_event(session, signals, GROUP, actor, phone, id_event, payload)


def event_of(id_event: str, actor: str, payload: dict[str, Any]) -> GroupEvent:
    """The GroupEvent a member's session reports for a network event of kind GROUP."""
    return GroupEvent(
        id_event=id_event,
        group_id=str(payload["groupId"]),
        group_name=str(payload.get("groupName", "")),
        notification=GroupNotification(payload["notification"]),
        actor=f"{actor}@c.us",
        parameters=[str(p) for p in payload.get("parameters", [])],
        request_method=str(payload.get("requestMethod", "")),
    )
