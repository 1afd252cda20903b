"""Notifications: written to the outbox in the transaction of the event that causes them."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.notifications import Lane
from fleetgate.services import zapi_callbacks
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
    instance: InstanceView,
    type_webhook: str,
    fields: dict[str, Any],
    previous_state: State | None = None,
    green: bool = True,
) -> int | None:
    """Queue what the instance's settings want of one event; the GREEN-API row's id, or None.

    A GREEN-API notification if its switch is on (and ``green``: a switch of its own, such
    as editedMessageWebhook, may hold it back), and a callback to each per-event callback URL
    that wants the event (services/zapi_callbacks.py), all in the caller's transaction.
    """
    now = now_ms()
    notification_id = None
    if green and type_webhook in SWITCH_OF:
        switch = SWITCH_OF[type_webhook]
        if switch is None or instance.switches.get(switch, False):
            notification_id = await _append_green(session, instance, type_webhook, fields, now)
    rows = zapi_callbacks.zapi_callbacks(
        instance=instance,
        type_webhook=type_webhook,
        fields=fields,
        now=now,
        previous_state=previous_state,
    )
    for kind, url, body in rows:
        await repo.append(
            session,
            id_instance=instance.id_instance,
            type_webhook=kind,
            body=orjson.dumps(body).decode(),
            now=now,
            lane=Lane.CALLBACK,
            target_url=url,
        )
    if notification_id is not None or rows:
        await signals.send(session, CHANNEL, str(instance.id_instance))
    return notification_id


async def _append_green(
    session: AsyncSession,
    instance: InstanceView,
    type_webhook: str,
    fields: dict[str, Any],
    now: int,
) -> int:
    body = {
        "typeWebhook": type_webhook,
        "instanceData": {
            "idInstance": instance.id_instance,
            "wid": instance.wid,
            "typeInstance": instance.type_instance,
        },
        "timestamp": now // 1000,
        **fields,
    }
    return await repo.append(
        session,
        id_instance=instance.id_instance,
        type_webhook=type_webhook,
        body=orjson.dumps(body).decode(),
        now=now,
    )
