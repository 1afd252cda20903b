"""Z-API's other sends (spec §8): link, location, contact(s), poll, the legacy button
messages, and forward-message.

Each queues the messageData its GREEN-API twin queues (sendMessage with a preview,
sendLocation, sendContact, sendPoll, sendInteractiveButtons(Reply), forwardMessages) and
answers the send triple; send-option-list queues GREEN-API's listMessage (the type its
notifications show for list menus), whose sending GREEN-API has retired.
"""

from __future__ import annotations

from fastapi import APIRouter, Request

from fleetgate.api import message_actions
from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send
from fleetgate.api.zapi import actions_wire as wire
from fleetgate.api.zapi import events_wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.sending import chat_id, send_triple

router = APIRouter(prefix=PREFIX, tags=["Z-API sending"], route_class=ZapiRoute)


def _send_route(path: str, model: type[wire.QueuedSend]) -> None:
    async def send(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
        body = await parsed(model, request, ctx)
        to = chat_id(body.phone)
        id_message = await queue_send(
            ctx,
            instance,
            to,
            body.message_data(),
            body.messageId,
            delay_ms=(body.delayMessage or 0) * 1000,
            quoted_field="messageId",
        )
        return send_triple(instance, id_message)

    send.__doc__ = f"{model.__doc__} Queued; answers the send triple."
    router.add_api_route(path, send, methods=["POST"], name=path, openapi_extra=json_body(model))


for _path, _model in (
    ("/send-link", wire.SendLink),
    ("/send-location", wire.SendLocation),
    ("/send-contact", wire.SendContact),
    ("/send-contacts", wire.SendContacts),
    ("/send-poll", wire.SendPoll),
    ("/send-button-list", wire.SendButtonList),
    ("/send-button-actions", wire.SendButtonActions),
    ("/send-option-list", events_wire.SendOptionList),
):
    _send_route(_path, _model)


@router.post("/forward-message", openapi_extra=json_body(wire.ForwardMessage))
async def forward_message(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Forward ``messageId`` of the chat ``messagePhone`` to ``phone``; the send triple of the
    copy (Z-API documents ``zaapId`` alone: the other two keys come along)."""
    body = await parsed(wire.ForwardMessage, request, ctx)
    to, source = chat_id(body.phone), chat_id(body.messagePhone)
    (id_message,) = await message_actions.forward(
        ctx,
        instance,
        to,
        source,
        [body.messageId],
        error="messageId must be the id of a message of the chat messagePhone",
    )
    return send_triple(instance, id_message)
