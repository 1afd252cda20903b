"""GREEN-API notification queue methods: receiveNotification, deleteNotification, counts, clear."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fleetgate.api.bodies import read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.responses import OrjsonResponse
from fleetgate.context import Context
from fleetgate.errors import InvalidInput
from fleetgate.ids import digits_value, is_digits
from fleetgate.services import notifications
from fleetgate.services.notifications import RECEIVE_TIMEOUT_MAX, RECEIVE_TIMEOUT_MIN

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API receiving"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = ("receiveNotification", "deleteNotification", "getWebhooksCount", "clearWebhooksQueue")
NULL = b"null"
_RECEIPT_ERROR = "Parameter receiptId must be a Number"


@router.get("/receiveNotification/{apiTokenInstance}")
async def receive_notification(
    instance: InstanceDep, ctx: ContextDep, receiveTimeout: str | None = None
) -> Response:
    """The oldest notification, waiting up to receiveTimeout s (5..60, default 5); else null.

    The notification stays queued until deleteNotification acknowledges its receiptId.
    """
    timeout = _receive_timeout(receiveTimeout)
    if instance.webhook_url:
        # Pushed queues are not handed to pollers too; block so a polling loop cannot spin.
        await notifications.wait_quietly(timeout)
        return Response(NULL, media_type="application/json")
    item = await notifications.receive(
        db=ctx.db,
        signals=ctx.signals,
        policy=ctx.queue_policy,
        id_instance=instance.id_instance,
        timeout_s=timeout,
    )
    if item is None:
        return Response(NULL, media_type="application/json")
    # The body is stored as JSON text: splice it in rather than parse and re-encode it.
    content = b'{"receiptId":%d,"body":%s}' % (item.id, item.body.encode())
    return Response(content, media_type="application/json")


def _receive_timeout(raw: str | None) -> int:
    if raw is None or raw == "":
        return RECEIVE_TIMEOUT_MIN
    if not is_digits(raw) or not RECEIVE_TIMEOUT_MIN <= digits_value(raw) <= RECEIVE_TIMEOUT_MAX:
        raise InvalidInput(
            f"receiveTimeout must be an integer from {RECEIVE_TIMEOUT_MIN} to {RECEIVE_TIMEOUT_MAX}"
        )
    return digits_value(raw)


@router.delete("/deleteNotification/{apiTokenInstance}/{receiptId}")
async def delete_notification(instance: InstanceDep, receiptId: str, ctx: ContextDep) -> Response:
    """Acknowledge a notification: `{"result": true}`, or false if it was not queued."""
    return await _acknowledge(ctx, instance.id_instance, receiptId)


# The official client's async variant sends the receiptId as the JSON body of
# DELETE .../deleteNotification/{token}/ (with a trailing slash and no id in the path).
@router.delete("/deleteNotification/{apiTokenInstance}/", include_in_schema=False)
@router.delete("/deleteNotification/{apiTokenInstance}", include_in_schema=False)
async def delete_notification_by_body(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> Response:
    body: Any = await read_json(request, ctx.settings.http.max_body_bytes)
    if isinstance(body, dict):
        body = body.get("receiptId")
    receipt = str(body) if isinstance(body, int) and not isinstance(body, bool) else ""
    return await _acknowledge(ctx, instance.id_instance, receipt)


async def _acknowledge(ctx: Context, id_instance: int, receipt: str) -> Response:
    if not is_digits(receipt):
        raise InvalidInput(_RECEIPT_ERROR)
    receipt_id = digits_value(receipt)
    # Ids are 64-bit; a larger number names no notification.
    removed = receipt_id < 2**63 and await notifications.acknowledge(
        db=ctx.db, id_instance=id_instance, receipt_id=receipt_id
    )
    return OrjsonResponse({"result": removed})


@router.get("/getWebhooksCount/{apiTokenInstance}")
async def get_webhooks_count(instance: InstanceDep, ctx: ContextDep) -> Response:
    """How many notifications are queued (under both spellings of the key, see docs)."""
    n = await notifications.count(
        db=ctx.db, policy=ctx.queue_policy, id_instance=instance.id_instance
    )
    return OrjsonResponse({"count": n, "\u0441ount": n})


@router.delete("/clearWebhooksQueue/{apiTokenInstance}")
async def clear_webhooks_queue(instance: InstanceDep, ctx: ContextDep) -> Response:
    """Empty the queue; allowed once a minute."""
    cleared = await notifications.clear(db=ctx.db, id_instance=instance.id_instance)
    if cleared is None:
        wait = await notifications.clear_wait_s(db=ctx.db, id_instance=instance.id_instance)
        return OrjsonResponse({"isCleared": False, "reason": "Too many requests", "leftTime": wait})
    return OrjsonResponse({"isCleared": True, "reason": ""})
