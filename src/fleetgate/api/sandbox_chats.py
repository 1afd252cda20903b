"""The sandbox network over HTTP, continued: a virtual phone edits and deletes its messages,
reacts, votes in polls, calls, blocks, and sees its chats both ways and who is typing to it.

Same authentication and rules as api/sandbox.py (a number acts only for the partner holding
it); errors are ``{"error": "<text>"}``.
"""

from __future__ import annotations

from typing import Annotated, TypeVar

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL, json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sandbox import _chat_phone, fold_changes, message_item, message_limit
from fleetgate.api.sandbox_phone import own_phone
from fleetgate.api.sandbox_phone import phone_number as _phone
from fleetgate.context import Context
from fleetgate.services import sandbox_chats, sandbox_phones

router = APIRouter(prefix="/sandbox", tags=["sandbox"], route_class=PlainRoute)

_STRICT = ConfigDict(extra="forbid", strict=True)
MessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_CONTROL)]


class _InChat(BaseModel):
    model_config = _STRICT
    chatId: str


class MessageActionBody(_InChat):
    idMessage: MessageId


class EditBody(MessageActionBody):
    message: str = Field(min_length=1, max_length=MESSAGE_MAX)


class ReactBody(MessageActionBody):
    reaction: str = Field(max_length=16, pattern=NO_CONTROL)


class VoteBody(MessageActionBody):
    options: list[Annotated[str, Field(max_length=100)]] = Field(max_length=12)


class CallBody(_InChat):
    outcome: str = "declined"
    isVideo: bool = False


_Body = TypeVar("_Body", bound=BaseModel)


async def _parse(model: type[_Body], request: Request, ctx: Context) -> _Body:
    return parse_body(model, await read_json(request, ctx.settings.http.max_body_bytes))


@router.post("/phones/{phone}/edit", openapi_extra=json_body(EditBody))
async def phone_edits(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone edits a text it sent: ``{chatId, idMessage, message}``; the edit's idMessage."""
    body = await _parse(EditBody, request, ctx)
    async with ctx.db.transaction() as session:
        id_edit = await sandbox_chats.edit(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            other=_chat_phone(body.chatId),
            id_message=body.idMessage,
            text=body.message,
        )
    return OrjsonResponse({"idMessage": id_edit})


@router.post("/phones/{phone}/delete", openapi_extra=json_body(MessageActionBody))
async def phone_deletes(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone deletes a message it sent, for everyone: ``{chatId, idMessage}``."""
    body = await _parse(MessageActionBody, request, ctx)
    async with ctx.db.transaction() as session:
        id_delete = await sandbox_chats.delete(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            other=_chat_phone(body.chatId),
            id_message=body.idMessage,
        )
    return OrjsonResponse({"idMessage": id_delete})


@router.post("/phones/{phone}/react", openapi_extra=json_body(ReactBody))
async def phone_reacts(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone reacts to a message of a chat: ``{chatId, idMessage, reaction}`` ("" takes
    the reaction back)."""
    body = await _parse(ReactBody, request, ctx)
    async with ctx.db.transaction() as session:
        id_reaction = await sandbox_chats.react(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            other=_chat_phone(body.chatId),
            id_message=body.idMessage,
            emoji=body.reaction,
        )
    return OrjsonResponse({"idMessage": id_reaction})


@router.post("/phones/{phone}/vote", openapi_extra=json_body(VoteBody))
async def phone_votes(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone votes in a poll it received: ``{chatId, idMessage, options: [names]}``."""
    body = await _parse(VoteBody, request, ctx)
    async with ctx.db.transaction() as session:
        id_vote = await sandbox_chats.vote(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            other=_chat_phone(body.chatId),
            id_message=body.idMessage,
            options=body.options,
        )
    return OrjsonResponse({"idMessage": id_vote})


@router.post("/phones/{phone}/call", openapi_extra=json_body(CallBody))
async def phone_calls(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone calls a number: it rings, then ends as ``outcome`` (pickUp, hangUp,
    declined or missed): ``{chatId, outcome, isVideo?}``; the call's id."""
    body = await _parse(CallBody, request, ctx)
    async with ctx.db.transaction() as session:
        id_call = await sandbox_chats.call(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            other=_chat_phone(body.chatId),
            outcome=body.outcome,
            is_video=body.isVideo,
        )
    return OrjsonResponse({"idCall": id_call})


@router.post("/phones/{phone}/block", openapi_extra=json_body(_InChat))
async def phone_blocks(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone blocks a number: ``{chatId}``."""
    body = await _parse(_InChat, request, ctx)
    async with ctx.db.transaction() as session:
        await sandbox_chats.block(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            other=_chat_phone(body.chatId),
        )
    return OrjsonResponse({"blocked": body.chatId})


@router.get("/phones/{phone}/presence")
async def phone_sees_presence(
    phone: str, partner: PartnerDep, ctx: ContextDep, chatId: str | None = None
) -> Response:
    """What the phone last saw of each chat partner (or of ``chatId`` only): typing,
    recording, online, ..."""
    own = _phone(phone)
    if chatId is not None:
        _chat_phone(chatId)
    async with ctx.db.transaction() as session:
        await sandbox_phones.claim(session=session, partner=partner, phone=own)
        seen = await sandbox_chats.presence_seen(session=session, phone=own)
    if chatId is not None:
        seen = {chatId: seen[chatId]} if chatId in seen else {}
    return OrjsonResponse({"presence": seen})


@router.get("/phones/{phone}/conversation")
async def phone_conversation(
    phone: str, partner: PartnerDep, ctx: ContextDep, limit: str = "100"
) -> Response:
    """What the virtual phone received and sent, oldest first (the newest ``limit``, at most
    1,000), each item as the inbox shows it plus ``fromMe``; edits, deletions, reactions and
    votes also show on the message they change."""
    count = message_limit(limit)
    own = await own_phone(ctx, partner, phone)
    async with ctx.db.reading() as session:
        lines = await sandbox_chats.conversation(session=session, phone=own, limit=count)
    items = []
    for line in lines:
        mine = line.from_phone == own
        chat = line.to_phone if mine else line.from_phone
        item = message_item(line.id_message, line.from_phone, line.payload, line.at_ms, chat=chat)
        items.append(item | {"fromMe": mine})
    return OrjsonResponse({"messages": fold_changes(items)})
