"""Z-API group notifications: a ReceivedCallback with ``notification`` (GROUP_CREATE,
GROUP_PARTICIPANT_ADD, ...) and ``notificationParameters`` (the participants it concerns).

GREEN-API sends no group-change notifications (its spec §8), so these events exist only as
callbacks: the runner emits GROUP_EVENT (runner/events.py) and services/zapi_callbacks.py hands
it here. Pure functions, as there.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fleetgate.domain.groups import GroupEvent, GroupNotification
from fleetgate.domain.instances import InstanceView

# The event a group change causes: only ever a callback (GREEN-API has no notification).
GROUP_EVENT = "groupChanged"
RECEIVED = "ReceivedCallback"

Row = tuple[str, str, dict[str, Any]]


def event_fields(event: GroupEvent) -> dict[str, Any]:
    """The fields the outbox keeps of a GroupEvent (the input of :func:`rows`)."""
    return asdict(event) | {"notification": str(event.notification)}


def wanted(instance: InstanceView) -> bool:
    """Whether the instance has a callback URL that gets group notifications."""
    return bool(instance.callbacks.get("received") or instance.callbacks.get("received_delivery"))


def rows(*, instance: InstanceView, fields: dict[str, Any], now: int) -> list[Row]:
    """The callbacks of one group change: to the received URL and the received-and-delivery
    URL (once if they are the same)."""
    body = notification_body(instance=instance, fields=fields, now=now)
    urls: list[str] = []
    for url in (instance.callbacks.get("received"), instance.callbacks.get("received_delivery")):
        if url and url not in urls:
            urls.append(url)
    return [(RECEIVED, url, dict(body)) for url in urls]


def notification_body(
    *, instance: InstanceView, fields: dict[str, Any], now: int
) -> dict[str, Any]:
    """The ReceivedCallback envelope of a group notification (no content object)."""
    actor = str(fields.get("actor", ""))
    group_id = str(fields.get("group_id", ""))
    body: dict[str, Any] = {
        "isStatusReply": False,
        "senderLid": None,
        "connectedPhone": instance.wid.removesuffix("@c.us"),
        "waitingMessage": False,
        "isEdit": False,
        "isGroup": True,
        "isNewsletter": False,
        "instanceId": str(instance.id_instance),
        "messageId": str(fields.get("id_event", "")),
        "phone": group_id.removesuffix("@g.us") + "-group",
        "fromMe": bool(actor) and actor == instance.wid,
        "momment": now,
        "status": "RECEIVED",
        "chatName": str(fields.get("group_name", "")),
        "senderPhoto": None,
        "senderName": "",
        "participantPhone": actor.removesuffix("@c.us") or None,
        "participantLid": None,
        "photo": None,
        "broadcast": False,
        "type": RECEIVED,
        "notification": str(fields.get("notification", "")),
        "notificationParameters": [str(p) for p in fields.get("parameters", [])],
        "callId": None,
        "code": None,
    }
    if fields.get("notification") == GroupNotification.APPROVAL_REQUEST:
        body["requestMethod"] = str(fields.get("request_method") or "invite_link")
    return body
