"""GREEN-API interactive buttons: queued like every other send."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request

from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.chats_wire import (
    SendInteractiveButtonsBody,
    SendInteractiveButtonsReplyBody,
)
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API sending"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = ("sendInteractiveButtons", "sendInteractiveButtonsReply")


async def _send(
    model: type[SendInteractiveButtonsBody | SendInteractiveButtonsReplyBody],
    instance: InstanceDep,
    request: Request,
    ctx: ContextDep,
) -> OrjsonResponse:
    body = parse_body(model, await read_json(request, ctx.settings.http.max_body_bytes))
    id_message = await queue_send(
        ctx, instance, body.chatId, body.message_data(), body.quotedMessageId
    )
    return OrjsonResponse({"idMessage": id_message})


@router.post(
    "/sendInteractiveButtons/{apiTokenInstance}",
    openapi_extra=json_body(SendInteractiveButtonsBody),
)
async def send_interactive_buttons(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """A message with up to three copy/call/url buttons. Queued; answers its idMessage."""
    return await _send(SendInteractiveButtonsBody, instance, request, ctx)


@router.post(
    "/sendInteractiveButtonsReply/{apiTokenInstance}",
    openapi_extra=json_body(SendInteractiveButtonsReplyBody),
)
async def send_interactive_buttons_reply(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """A message with up to three quick-reply buttons. Queued; answers its idMessage."""
    return await _send(SendInteractiveButtonsReplyBody, instance, request, ctx)
