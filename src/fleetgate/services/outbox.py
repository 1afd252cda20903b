"""Notifications: written to the outbox in the transaction of the event that causes them."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.storage.repos import outbox as repo
from fleetgate.storage.signals import Signals

CHANNEL = "notify"

# typeWebhook -> the switch that must be on for it to be queued (None: always queued).
SWITCH_OF: dict[str, str | None] = {
    "stateInstanceChanged": "state_webhook",
    "statusInstanceChanged": "status_instance_webhook",
    "incomingMessageReceived": "incoming_webhook",
    "outgoingMessageReceived": "outgoing_message_webhook",
    "outgoingAPIMessageReceived": "outgoing_api_message_webhook",
    "outgoingMessageStatus": "outgoing_webhook",
    "deviceInfo": "device_webhook",
    "incomingCall": "incoming_call_webhook",
    "incomingBlock": "incoming_block_webhook",
    "quotaExceeded": None,
}


async def emit(
    *,
    session: AsyncSession,
    signals: Signals,
    id_instance: int,
    wid: str,
    type_instance: str,
    switches: dict[str, bool],
    type_webhook: str,
    fields: dict[str, Any],
) -> int | None:
    """Queue one notification if the instance's settings want it; its id, or None."""
    switch = SWITCH_OF[type_webhook]
    if switch is not None and not switches.get(switch, False):
        return None
    now = now_ms()
    body = {
        "typeWebhook": type_webhook,
        "instanceData": {"idInstance": id_instance, "wid": wid, "typeInstance": type_instance},
        "timestamp": now // 1000,
        **fields,
    }
    notification_id = await repo.append(
        session,
        id_instance=id_instance,
        type_webhook=type_webhook,
        body=orjson.dumps(body).decode(),
        now=now,
    )
    await signals.send(session, CHANNEL, str(id_instance))
    return notification_id
