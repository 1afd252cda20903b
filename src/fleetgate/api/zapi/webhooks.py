"""Z-API settings routes: the per-event callback URLs, notify-sent-by-me and call options.

Each takes PUT (as documented) or POST (as some clients send) and answers ``{"value": true}``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request

from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX, apply
from fleetgate.domain.config import CALLBACKS, ConfigPatch
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput

NEEDS_RECEIVED_URL = "set a received callback URL first (update-webhook-received)"
router = APIRouter(prefix=PREFIX, tags=["Z-API webhooks"], route_class=ZapiRoute)

# Route -> the callback event whose URL it sets (with the aliases the docs also use).
URL_SETTERS = {
    "update-webhook-received": "received",
    "update-webhook-receive": "received",
    "update-webhook-received-delivery": "received_delivery",
    "update-webhook-delivery": "delivery",
    "update-webhook-message-status": "message_status",
    "update-webhook-status": "message_status",
    "update-webhook-disconnected": "disconnected",
    "update-webhook-connected": "connected",
    "update-webhook-chat-presence": "presence_chat",
}


def _setter(
    model: type[Any], to_patch: Callable[[Any], ConfigPatch], doc: str
) -> Callable[..., Any]:
    """A route that reads ``{"value": ...}`` with ``model`` and applies ``to_patch(value)``."""

    async def set_value(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
        body = await parsed(model, request, ctx)
        await apply(ctx, instance, to_patch(body.value))
        return OrjsonResponse({"value": True})

    set_value.__doc__ = doc
    return set_value


def _url_patch(event: str) -> Callable[[str], ConfigPatch]:
    return lambda url: ConfigPatch(callbacks={event: url.strip()})


def _add(path: str, endpoint: Callable[..., Any], model: type[Any]) -> None:
    # One route per method, so each has its own OpenAPI operation id.
    for method in ("PUT", "POST"):
        router.add_api_route(
            f"/{path}",
            endpoint,
            methods=[method],
            name=path.replace("-", "_"),
            openapi_extra=json_body(model),
        )


for _path, _event in URL_SETTERS.items():
    _doc = f"Set the {_event.replace('_', ' ')} callback URL (empty: none)."
    _add(_path, _setter(wire.TextValue, _url_patch(_event), _doc), wire.TextValue)


@router.put("/update-every-webhooks", openapi_extra=json_body(wire.EveryWebhooks))
@router.post("/update-every-webhooks", openapi_extra=json_body(wire.EveryWebhooks))
async def update_every_webhooks(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Set every callback URL at once (and optionally notify-sent-by-me)."""
    body = await parsed(wire.EveryWebhooks, request, ctx)
    url = body.value.strip()
    if body.notifySentByMe and not url and not _receives(instance):
        raise InvalidInput(NEEDS_RECEIVED_URL)
    options: dict[str, bool | str] = {}
    if body.notifySentByMe is not None:
        options["notify_sent_by_me"] = body.notifySentByMe
    await apply(
        ctx, instance, ConfigPatch(callbacks=dict.fromkeys(CALLBACKS, url), options=options)
    )
    return OrjsonResponse({"value": True})


@router.put("/update-notify-sent-by-me", openapi_extra=json_body(wire.NotifySentByMe))
@router.post("/update-notify-sent-by-me", openapi_extra=json_body(wire.NotifySentByMe))
async def update_notify_sent_by_me(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Also send messages sent by this account to the received callback URL."""
    body = await parsed(wire.NotifySentByMe, request, ctx)
    if body.notifySentByMe and not _receives(instance):
        raise InvalidInput(NEEDS_RECEIVED_URL)
    await apply(ctx, instance, ConfigPatch(options={"notify_sent_by_me": body.notifySentByMe}))
    return OrjsonResponse({"value": body.notifySentByMe})


def _receives(instance: InstanceView) -> bool:
    """Whether the instance has a URL for received messages (its own or GREEN-API's)."""
    urls = wire.callback_urls(instance)
    return bool(urls["receivedCallbackUrl"] or urls["receivedAndDeliveryCallbackUrl"])


# Route -> (body model, how its value becomes a settings change).
_OPTION_SETTERS: dict[str, tuple[type[Any], Callable[[Any], ConfigPatch]]] = {
    "update-call-reject-auto": (
        wire.BoolValue,
        lambda v: ConfigPatch(options={"call_reject_auto": v}),
    ),
    "update-call-reject-message": (
        wire.MessageValue,
        lambda v: ConfigPatch(options={"call_reject_message": v}),
    ),
    "update-auto-read-message": (
        wire.BoolValue,
        lambda v: ConfigPatch(switches={"mark_incoming_messages_read": v}),
    ),
    "update-auto-read-status": (
        wire.BoolValue,
        lambda v: ConfigPatch(options={"auto_read_status": v}),
    ),
}


for _path, (_model, _to_patch) in _OPTION_SETTERS.items():
    _add(_path, _setter(_model, _to_patch, f"Set {_path.removeprefix('update-')}."), _model)
