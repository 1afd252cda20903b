"""GREEN-API sending methods and the send queue: every send is queued and answered at once."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel

from fleetgate.api import message_actions
from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.queue_form import queue_items, queue_request
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.greenapi.sending_wire import (
    ForwardMessagesBody,
    SendContactBody,
    SendLocationBody,
    SendMessageBody,
    SendPollBody,
)
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send
from fleetgate.ids import new_message_id
from fleetgate.services import send_queue

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API sending"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = (
    "sendMessage",
    "sendLocation",
    "sendContact",
    "sendPoll",
    "forwardMessages",
    "showMessagesQueue",
    "clearMessagesQueue",
    "getMessagesCount",
)
SHOW_QUEUE_MAX = 1000

_SENDS: dict[str, type[BaseModel]] = {
    "sendMessage": SendMessageBody,
    "sendLocation": SendLocationBody,
    "sendContact": SendContactBody,
    "sendPoll": SendPollBody,
}


def _send_route(name: str, model: type[BaseModel]) -> None:
    async def send(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
        body: Any = parse_body(model, await read_json(request, ctx.settings.http.max_body_bytes))
        id_message = await queue_send(
            ctx,
            instance,
            body.chatId,
            body.message_data(),
            body.quotedMessageId,
            request=queue_request(name, body),
        )
        return OrjsonResponse({"idMessage": id_message})

    send.__doc__ = f"{model.__doc__} Queued; the answer carries its idMessage."
    router.add_api_route(
        f"/{name}/{{apiTokenInstance}}",
        send,
        methods=["POST"],
        name=name,
        openapi_extra=json_body(model),
    )


for _name, _model in _SENDS.items():
    _send_route(_name, _model)


@router.post("/forwardMessages/{apiTokenInstance}", openapi_extra=json_body(ForwardMessagesBody))
async def forward_messages(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Forward messages of one chat to another; answers the new idMessages in order."""
    body = parse_body(
        ForwardMessagesBody, await read_json(request, ctx.settings.http.max_body_bytes)
    )
    # One queue item for the whole forward: every message it queues names the same request.
    forward: dict[str, Any] = {
        "type": "ForwardMessages",
        "body": {"chatId": body.chatId, "chatIdFrom": body.chatIdFrom, "messages": body.messages},
        "group": new_message_id(),
    }
    ids = await message_actions.forward(
        ctx,
        instance,
        body.chatId,
        body.chatIdFrom,
        body.messages,
        error="messages must be ids of messages of chatIdFrom",
        request=forward,
    )
    return OrjsonResponse({"messages": ids})


@router.get("/showMessagesQueue/{apiTokenInstance}")
async def show_messages_queue(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Messages waiting to be sent, oldest first (at most 1,000)."""
    async with ctx.db.reading() as session:
        waiting = await send_queue.waiting(
            session=session, id_instance=instance.id_instance, limit=SHOW_QUEUE_MAX
        )
    return OrjsonResponse(queue_items(waiting))


@router.get("/clearMessagesQueue/{apiTokenInstance}")
async def clear_messages_queue(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Drop every message still waiting to be sent."""
    async with ctx.db.transaction() as session:
        await send_queue.clear_queue(session=session, id_instance=instance.id_instance)
    return OrjsonResponse({"isCleared": True})


@router.get("/getMessagesCount/{apiTokenInstance}")
async def get_messages_count(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """How many messages wait to be sent (under both spellings of the key, as getWebhooksCount)."""
    async with ctx.db.reading() as session:
        n = await send_queue.count_waiting(session=session, id_instance=instance.id_instance)
    return OrjsonResponse({"count": n, "\u0441ount": n})
