"""The sandbox network over HTTP: virtual phones scan QRs, type pairing codes, log out.

Authenticated with a partner token as ``Authorization: Bearer <partnerToken>``. The network is
shared: a phone number belongs to the first partner that uses it, and only that partner acts as
the phone (another partner's number answers 404, as an unknown instance does). A partner's phones
link only to that partner's instances. Errors are ``{"error": "<text>"}``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from importlib import resources
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.responses import Response

from fleetgate.api.bearer import PartnerDep, PlainErrorRoute
from fleetgate.api.deps import ContextDep, read_json
from fleetgate.api.greenapi.sending_wire import MESSAGE_MAX, NO_CONTROL
from fleetgate.api.greenapi.wire import parse_body
from fleetgate.api.responses import OrjsonResponse
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.engines.sandbox import network
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import digits_value, is_digits, new_message_id
from fleetgate.services import engine_calls
from fleetgate.services.types import Partner
from fleetgate.storage.repos import instances as instances_repo

router = APIRouter(prefix="/sandbox", tags=["sandbox"], route_class=PlainErrorRoute)


class ScanBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    qr: str = Field(pattern=NO_CONTROL)


class CodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    code: str = Field(pattern=NO_CONTROL)


# The same answer whoever holds the number and whatever it holds: it tells another partner only
# that the number is not theirs to use, never who has it, its links or its messages.
NOT_YOURS = "this number is not one of your phones"


def _phone(phone: str) -> str:
    if not is_digits(phone) or not 7 <= len(phone) <= 15:
        raise InvalidInput("phone must be 7 to 15 digits with the country code")
    return phone


async def _own(session: AsyncSession, phone: str, partner: Partner) -> str:
    """``phone``, once the partner holds it (the first partner to use a number holds it)."""
    if not await network.claim_phone(session, _phone(phone), partner.id):
        raise NotFound(NOT_YOURS)
    return phone


@router.post("/phones/{phone}/scan")
async def scan(phone: str, request: Request, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The phone scans a QR payload shown by one of the partner's instances and links to it."""
    body = parse_body(ScanBody, await read_json(request, ctx.settings.http.max_body_bytes))
    return await _link_as(
        ctx,
        phone,
        partner,
        lambda session, own: network.scan_qr(
            session, ctx.signals, phone=own, payload=body.qr, partner_id=partner.id
        ),
        refused="no instance of yours shows this QR code now (it rotates every 20 s)",
    )


@router.post("/phones/{phone}/link")
async def link(phone: str, request: Request, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The phone types a pairing code that an instance issued for this phone number."""
    body = parse_body(CodeBody, await read_json(request, ctx.settings.http.max_body_bytes))
    return await _link_as(
        ctx,
        phone,
        partner,
        lambda session, own: network.enter_code(
            session, ctx.signals, phone=own, code=body.code, partner_id=partner.id
        ),
        refused="no pairing code like this was issued for this phone, or it expired",
    )


async def _link_as(
    ctx: Context,
    phone: str,
    partner: Partner,
    attempt: Callable[[AsyncSession, str], Awaitable[int | None]],
    *,
    refused: str,
) -> Response:
    """Run a link attempt as the partner's phone ``phone``; the instance it linked."""
    async with ctx.db.transaction() as session:
        linked = await attempt(session, await _own(session, phone, partner))
        if linked is None:  # raised inside the transaction: a refused attempt takes no number
            raise NotFound(refused)
    return OrjsonResponse({"linked": True, "idInstance": linked})


@router.post("/phones/{phone}/logout")
async def phone_logout(phone: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The phone unlinks every instance of the partner it is linked to."""
    async with ctx.db.transaction() as session:
        ids = await network.phone_logout(
            session, ctx.signals, phone=await _own(session, phone, partner), partner_id=partner.id
        )
    return OrjsonResponse({"unlinked": ids})


@router.get("/instances/{idInstance}/qr")
async def instance_qr(idInstance: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The text the instance's current QR encodes (what a phone would read from the image)."""
    if not is_digits(idInstance) or len(idInstance) > 18:
        raise NotFound("no such instance")
    id_instance = int(idInstance)
    async with ctx.db.reading() as session:
        found = await instances_repo.view(session, id_instance, now=now_ms())
    if found is None or found[0].partner_id != partner.id:
        raise NotFound("no such instance")
    answer = await engine_calls.call_engine(
        db=ctx.db,
        signals=ctx.signals,
        id_instance=id_instance,
        method=engine_calls.QR,
        args={},
    )
    return OrjsonResponse({"qr": answer["payload"], "expiresMs": answer["expiresMs"]})


class PhoneMessageBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str
    message: str = Field(min_length=1, max_length=MESSAGE_MAX)


class PhoneReadBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str


class PhonePresenceBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: str
    status: str


def _chat_phone(chat_id: str) -> str:
    phone = chat_id.removesuffix("@c.us")
    if phone == chat_id:
        raise InvalidInput("chatId must be <phone digits>@c.us")
    return _phone(phone)


@router.post("/phones/{phone}/messages")
async def phone_sends(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone writes a text message to a number (an instance's, or another phone)."""
    body = parse_body(PhoneMessageBody, await read_json(request, ctx.settings.http.max_body_bytes))
    sender, to_phone = _phone(phone), _chat_phone(body.chatId)
    id_message = new_message_id()
    async with ctx.db.transaction() as session:
        await _own(session, sender, partner)
        await network.post_message(
            session,
            ctx.signals,
            from_phone=sender,
            to_phone=to_phone,
            id_message=id_message,
            payload={
                "messageData": {
                    "typeMessage": "textMessage",
                    "textMessageData": {"textMessage": body.message},
                },
                "senderName": sender,
            },
        )
    return OrjsonResponse({"idMessage": id_message})


@router.get("/phones/{phone}/messages")
async def phone_inbox(
    phone: str, partner: PartnerDep, ctx: ContextDep, limit: str = "100"
) -> Response:
    """What the virtual phone received, oldest first (the newest ``limit``, at most 1,000)."""
    if not is_digits(limit) or not 1 <= digits_value(limit) <= 1000:
        raise InvalidInput("limit must be an integer from 1 to 1000")
    phone = _phone(phone)
    async with ctx.db.reading() as session:
        owner = await network.owner_of(session, phone)
    if owner is None:  # a first use: claiming writes, so only then a write transaction
        async with ctx.db.transaction() as session:
            await _own(session, phone, partner)
    elif owner != partner.id:
        raise NotFound(NOT_YOURS)
    async with ctx.db.reading() as session:
        events = await network.inbox(session, phone, limit=digits_value(limit))
    items = []
    for event in events:
        data = orjson.loads(event.payload)["messageData"]
        items.append(
            {
                "idMessage": event.id_message,
                "chatId": f"{event.from_phone}@c.us",
                "timestamp": event.at_ms // 1000,
                "timestampMs": event.at_ms,
                "typeMessage": data.get("typeMessage", ""),
                "text": message_text(data),
                "messageData": data,
            }
        )
    return OrjsonResponse({"messages": items})


@router.post("/phones/{phone}/read")
async def phone_reads(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone reads a chat: its sender gets read receipts."""
    body = parse_body(PhoneReadBody, await read_json(request, ctx.settings.http.max_body_bytes))
    reader, sender = _phone(phone), _chat_phone(body.chatId)
    async with ctx.db.transaction() as session:
        await _own(session, reader, partner)
        ids = await network.messages_from(session, to_phone=reader, from_phone=sender)
        await network.post_receipts(
            session, ctx.signals, from_phone=reader, to_phone=sender, id_messages=ids, status="read"
        )
    return OrjsonResponse({"read": len(ids)})


@router.post("/phones/{phone}/presence")
async def phone_presence(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The virtual phone shows itself online, typing, recording, ... in a chat."""
    body = parse_body(PhonePresenceBody, await read_json(request, ctx.settings.http.max_body_bytes))
    if body.status not in network.PRESENCES:
        raise InvalidInput(f"status must be one of {', '.join(network.PRESENCES)}")
    sender, to_phone = _phone(phone), _chat_phone(body.chatId)
    async with ctx.db.transaction() as session:
        await _own(session, sender, partner)
        await network.post_presence(
            session, ctx.signals, from_phone=sender, to_phone=to_phone, status=body.status
        )
    return OrjsonResponse({"presence": body.status})


def message_text(data: dict[str, Any]) -> str:
    """The text of a text message, the caption of a file, or ""."""
    if "textMessageData" in data:
        return str(data["textMessageData"].get("textMessage", ""))
    if "extendedTextMessageData" in data:
        return str(data["extendedTextMessageData"].get("text", ""))
    if "fileMessageData" in data:
        return str(data["fileMessageData"].get("caption", ""))
    return ""


_STATIC = resources.files("fleetgate.api").joinpath("static")
# The page runs only its own script file: no inline code, no framing, no plugins, no <base>, and
# fetches to this origin only. The QR is shown as a data: image. Instance names and messages are
# text the page never parses as markup (sandbox.js); this policy is the second wall behind that.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_ASSETS = {
    "sandbox.html": "text/html; charset=utf-8",
    "sandbox.js": "text/javascript; charset=utf-8",
    "sandbox.css": "text/css; charset=utf-8",
}


def _asset(name: str) -> Response:
    return Response(
        _STATIC.joinpath(name).read_bytes(),
        media_type=_ASSETS[name],
        headers={"Content-Security-Policy": CONTENT_SECURITY_POLICY, "Cache-Control": "no-cache"},
    )


@router.get("", include_in_schema=False)
async def page() -> Response:
    """A page where a person links instances to virtual phones and writes as a contact."""
    return _asset("sandbox.html")


@router.get("/sandbox.js", include_in_schema=False)
async def page_script() -> Response:
    """The page's script (a file of its own: the page's policy forbids inline code)."""
    return _asset("sandbox.js")


@router.get("/sandbox.css", include_in_schema=False)
async def page_style() -> Response:
    """The page's style sheet (a file of its own: the page's policy forbids inline styles)."""
    return _asset("sandbox.css")
