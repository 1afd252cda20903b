"""Z-API's group events (spec §8): send-event, send-edit-event and send-event-response.

Events exist in groups only. Each is a message of the group, queued like every send and
answered with the send triple: an event (fleetgate's ``eventMessage``), its new version
(the same type, pointing at the event it replaces) and a member's answer to it
(``eventResponseMessage``, pointing at the event), as WhatsApp carries them.
"""

from __future__ import annotations

import orjson
from fastapi import APIRouter, Request

from fleetgate.api import message_actions, message_data
from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import events_wire as wire
from fleetgate.api.zapi.actions import author, queue_action
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.sending import chat_id
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.messages import Direction, Message
from fleetgate.errors import InvalidInput

router = APIRouter(prefix=PREFIX, tags=["Z-API sending"], route_class=ZapiRoute)

GROUPS_ONLY = "phone must be a group (<id>-group): events exist in groups only"
NOT_AN_EVENT = "eventMessageId must be the id of an event of this group"
NOT_OWN_EVENT = "eventMessageId must be the id of an event the instance sent to this group"


def group_id(phone: str) -> str:
    """The chat id of a Z-API ``phone`` that must name a group."""
    to = chat_id(phone)
    if not to.endswith("@g.us"):
        raise InvalidInput(GROUPS_ONLY)
    return to


async def event_of(ctx: Context, instance: InstanceView, to: str, id_message: str) -> Message:
    """An event of the group (as first sent, not one of its new versions), or InvalidInput."""
    try:
        found = await message_actions.chat_message(ctx, instance, to, id_message)
    except InvalidInput:
        raise InvalidInput(NOT_AN_EVENT) from None
    data = orjson.loads(found.data).get("eventMessageData")
    if not isinstance(data, dict) or "stanzaId" in data:
        raise InvalidInput(NOT_AN_EVENT)
    return found


@router.post("/send-event", openapi_extra=json_body(wire.SendEvent))
async def send_event(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Send an event (name, start, description, location, canceled) to a group; the send
    triple."""
    body = await parsed(wire.SendEvent, request, ctx)
    to = group_id(body.phone)
    return await queue_action(ctx, instance, body, to, body.event.message_data())


@router.post("/send-edit-event", openapi_extra=json_body(wire.SendEditEvent))
async def send_edit_event(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Replace an event the instance sent to the group (``eventMessageId``) with ``event``
    (``canceled: true`` cancels it); the send triple of the new version."""
    body = await parsed(wire.SendEditEvent, request, ctx)
    to = group_id(body.phone)
    data = body.event.message_data(edits=body.eventMessageId)
    found = await event_of(ctx, instance, to, body.eventMessageId)
    if found.direction != Direction.OUT:
        raise InvalidInput(NOT_OWN_EVENT)
    return await queue_action(ctx, instance, body, to, data)


@router.post("/send-event-response", openapi_extra=json_body(wire.SendEventResponse))
async def send_event_response(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Answer an event of the group (``eventMessageId``): ``GOING`` or ``NOT_GOING``; the
    send triple."""
    body = await parsed(wire.SendEventResponse, request, ctx)
    to = group_id(body.phone)
    found = await event_of(ctx, instance, to, body.eventMessageId)
    going = body.eventResponse == "GOING"
    data = message_data.event_response(body.eventMessageId, author(instance, found), going)
    return await queue_action(ctx, instance, body, to, data)
