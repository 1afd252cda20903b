"""Z-API sending: ``POST send-text``, queued like every send, answered with its ids; and
the chat ids and answer every Z-API send shares."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from fleetgate.api import message_actions
from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send
from fleetgate.api.zapi import wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_GROUP, CHAT_PHONE
from fleetgate.services import zapi_callbacks

router = APIRouter(prefix=PREFIX, tags=["Z-API sending"], route_class=ZapiRoute)

_PHONE = re.compile(CHAT_PHONE)
_GROUP = re.compile(CHAT_GROUP)


def chat_id(phone: str) -> str:
    """A Z-API ``phone`` (digits, ``<group>-group``, or a full chat id) as a chat id."""
    if _PHONE.fullmatch(phone):
        return f"{phone}@c.us"
    group = phone.removesuffix("-group")
    if group != phone and _GROUP.fullmatch(group):
        return f"{group}@g.us"
    bare, _, server = phone.partition("@")
    if (server == "c.us" and _PHONE.fullmatch(bare)) or (
        server == "g.us" and _GROUP.fullmatch(bare)
    ):
        return phone
    raise InvalidInput("phone must be digits with the country code, or a group id (<id>-group)")


def send_triple(instance: InstanceView, id_message: str) -> OrjsonResponse:
    """Z-API's answer to a send: its queue id, and its message id twice."""
    zaap_id = zapi_callbacks.zaap_id(instance.id_instance, id_message)
    return OrjsonResponse({"zaapId": zaap_id, "messageId": id_message, "id": id_message})


@router.post("/send-text", openapi_extra=json_body(wire.SendText))
async def send_text(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue a text (a reply to ``messageId``, if given); sent after ``delayMessage`` seconds
    at the least (else the instance's pace). With ``editMessageId``, edit that earlier text
    instead: the answer then carries the edited message's id."""
    body = await parsed(wire.SendText, request, ctx)
    to = chat_id(body.phone)
    if body.editMessageId is not None:
        await message_actions.edit_message(ctx, instance, to, body.editMessageId, body.message)
        return send_triple(instance, body.editMessageId)
    data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": body.message}}
    id_message = await queue_send(
        ctx,
        instance,
        to,
        data,
        body.messageId,
        delay_ms=(body.delayMessage or 0) * 1000,
        quoted_field="messageId",
    )
    return send_triple(instance, id_message)
