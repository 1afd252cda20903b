"""Z-API actions on messages of a chat (spec §8, §9): reactions, poll votes, pins, deletion
and read marks.

Reactions, votes and pins are messages that point at another one, as on WhatsApp: they are
queued like every send (GREEN-API's reactionMessage and pollUpdateMessage data, and
fleetgate's pinMessage) and answered with the send triple. Deletion and read marks are what
GREEN-API's deleteMessage and readChat do, answered 204.
"""

from __future__ import annotations

import re

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from fleetgate.api import message_actions
from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import actions_wire as wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.sending import chat_id, send_triple
from fleetgate.context import Context
from fleetgate.domain.chats import pin, poll_vote, reaction
from fleetgate.domain.instances import InstanceView
from fleetgate.domain.messages import Direction, Message
from fleetgate.errors import InvalidInput

router = APIRouter(prefix=PREFIX, tags=["Z-API message actions"], route_class=ZapiRoute)

NOT_A_POLL = "pollMessageId must be the id of a poll of this chat"
OWNER_VALUES = {"true": True, "false": False}
# A message id as the bodies take one (actions_wire.MessageId).
MESSAGE_ID = re.compile(r"[^\x00-\x1f\x7f]{1,64}")


def author(instance: InstanceView, message: Message) -> str:
    """Who wrote a message of the journal, as a chat id."""
    return instance.wid if message.direction == Direction.OUT else message.sender


async def queue_action(
    ctx: Context, instance: InstanceView, body: wire.ChatSend, to: str, data: dict[str, object]
) -> OrjsonResponse:
    """Queue a message that points at another (not a reply: no quote); the send triple."""
    id_message = await ctx.sends.enqueue(
        instance, to, data, delay_ms=(body.delayMessage or 0) * 1000
    )
    return send_triple(instance, id_message)


async def _react(
    ctx: Context, instance: InstanceView, body: wire.MessageRef, emoji: str
) -> OrjsonResponse:
    to = chat_id(body.phone)
    target = await message_actions.chat_message(ctx, instance, to, body.messageId)
    data = reaction(body.messageId, author(instance, target), emoji)
    return await queue_action(ctx, instance, body, to, data)


@router.post("/send-reaction", openapi_extra=json_body(wire.SendReaction))
async def send_reaction(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """React with ``reaction`` (an emoji) to ``messageId`` of the chat; the send triple."""
    body = await parsed(wire.SendReaction, request, ctx)
    return await _react(ctx, instance, body, body.reaction)


@router.post("/send-remove-reaction", openapi_extra=json_body(wire.MessageRef))
async def send_remove_reaction(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Take the instance's reaction to ``messageId`` back (an empty reaction); the send triple."""
    body = await parsed(wire.MessageRef, request, ctx)
    return await _react(ctx, instance, body, "")


@router.post("/send-poll-vote", openapi_extra=json_body(wire.SendPollVote))
async def send_poll_vote(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Vote as the instance in the poll ``pollMessageId`` of the chat: ``pollVote`` names the
    chosen options (one, unless the poll takes several); the send triple."""
    body = await parsed(wire.SendPollVote, request, ctx)
    to = chat_id(body.phone)
    chosen = body.chosen()
    try:
        found = await message_actions.chat_message(ctx, instance, to, body.pollMessageId)
    except InvalidInput:
        raise InvalidInput(NOT_A_POLL) from None
    poll = orjson.loads(found.data).get("pollMessageData")
    if not isinstance(poll, dict) or found.type_message != "pollMessage":
        raise InvalidInput(NOT_A_POLL)
    names = {o.get("optionName") for o in poll.get("options", [])}
    if not set(chosen) <= names:
        raise InvalidInput("pollVote must name options of the poll")
    if len(chosen) > 1 and not poll.get("multipleAnswers"):
        raise InvalidInput("this poll takes one option")
    data = poll_vote(body.pollMessageId, poll, instance.wid, chosen)
    return await queue_action(ctx, instance, body, to, data)


@router.post("/pin-message", openapi_extra=json_body(wire.PinMessage))
async def pin_message(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Pin ``messageId`` in its chat for ``pinMessageDuration`` (24_hours, 7_days, 30_days),
    or unpin it (``messageAction``); the send triple."""
    body = await parsed(wire.PinMessage, request, ctx)
    to = chat_id(body.phone)
    duration = body.duration_s()
    target = await message_actions.chat_message(ctx, instance, to, body.messageId)
    data = pin(
        body.messageId,
        author(instance, target),
        pinned=body.messageAction == "pin",
        duration_s=duration,
    )
    return await queue_action(ctx, instance, body, to, data)


@router.delete("/messages")
async def delete_message(
    instance: InstanceDep,
    ctx: ContextDep,
    messageId: str | None = None,
    phone: str | None = None,
    owner: str | None = None,
) -> Response:
    """Delete ``messageId`` of the chat ``phone``: for everyone when ``owner`` is true (the
    instance sent it), else only on the instance's side. 204, no body."""
    if not messageId or not phone or owner is None:
        raise InvalidInput("messageId, phone and owner are required")
    if not MESSAGE_ID.fullmatch(messageId):
        raise InvalidInput("messageId must be a message id")
    if owner.lower() not in OWNER_VALUES:
        raise InvalidInput("owner must be true or false")
    to = chat_id(phone)
    only_mine = not OWNER_VALUES[owner.lower()]
    await message_actions.delete_message(ctx, instance, to, messageId, only_mine=only_mine)
    return Response(status_code=204)


@router.post("/read-message", openapi_extra=json_body(wire.MessageRef))
async def read_message(instance: InstanceDep, request: Request, ctx: ContextDep) -> Response:
    """Mark ``messageId`` of the chat ``phone`` read; its sender sees it. 204, no body."""
    body = await parsed(wire.MessageRef, request, ctx)
    to = chat_id(body.phone)
    await message_actions.chat_message(ctx, instance, to, body.messageId)
    await message_actions.read_chat(ctx, instance, to, body.messageId)
    return Response(status_code=204)
