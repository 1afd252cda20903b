"""GREEN-API statuses (spec §10): post text, voice and media statuses, delete them, see who
saw them, and list the statuses sent and received.

Every method runs in the instance's engine session (an engine without statuses answers that it
does not support them). A status is posted when the request is answered, not queued: the
sandbox has no reason to hold it. A file status's ``urlFile`` is read from the media store when
it is a link fleetgate gave this instance, and fetched otherwise, as sendFileByUrl does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.journals import MINUTES_DEFAULT, MINUTES_MAX
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.greenapi.statuses_wire import (
    MediaStatusBody,
    StatusRefBody,
    TextStatusBody,
    VoiceStatusBody,
)
from fleetgate.api.responses import OrjsonResponse
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.files import StoredFile, safe_file_name
from fleetgate.domain.instances import InstanceView, State
from fleetgate.errors import InvalidInput
from fleetgate.ids import digits_value, is_digits, new_message_id
from fleetgate.services import contacts, engine_calls
from fleetgate.services.files import file_message_data
from fleetgate.services.media import FetchFailed

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API statuses"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = (
    "sendTextStatus",
    "sendVoiceStatus",
    "sendMediaStatus",
    "deleteStatus",
    "getStatusStatistic",
    "getIncomingStatuses",
    "getOutgoingStatuses",
)
NOT_AUTHORIZED_TEXT = "instance account not authorized"
NO_SUCH_STATUS = "ID message notfound"
# The chat WhatsApp posts statuses in.
STATUS_CHAT = "status@broadcast"
DEFAULT_BACKGROUND = "#FFFFFF"
_STATUS_RANK = {"sent": 0, "delivered": 1, "read": 2}


async def _call(ctx: Context, instance: InstanceView, method: str, args: dict[str, Any]) -> Any:
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_AUTHORIZED_TEXT)
    return await engine_calls.call_engine(
        db=ctx.db,
        signals=ctx.signals,
        id_instance=instance.id_instance,
        method=method,
        args=args,
    )


async def _post(
    ctx: Context,
    instance: InstanceView,
    data: dict[str, Any],
    participants: list[str] | None,
    file: tuple[StoredFile, str] | None = None,
) -> OrjsonResponse:
    id_message = new_message_id()
    args: dict[str, Any] = {
        "idMessage": id_message,
        "messageData": data,
        "participants": participants or [],
    }
    if file is not None:
        stored, row_key = file
        args["file"] = stored.as_json()
        args["media"] = {"owner": instance.id_instance, "key": row_key}
    await _call(ctx, instance, engine_calls.SEND_STATUS, args)
    return OrjsonResponse({"idMessage": id_message})


async def _file(
    ctx: Context, instance: InstanceView, url: str, file_name: str
) -> tuple[StoredFile, str]:
    """The status's file (its object's key) and its media row key: from the store for a
    fleetgate link, fetched now for any other URL."""
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_AUTHORIZED_TEXT)
    key = ctx.media.own_key(url, instance.id_instance)
    if key is not None:
        found = await ctx.media.find(key)
        if found is None:
            raise InvalidInput("urlFile names a file that is no longer kept")
        return found[0], key
    try:
        stored = await ctx.media.fetch(url, id_instance=instance.id_instance, file_name=file_name)
    except FetchFailed as exc:
        raise InvalidInput(str(exc)) from None
    return stored, stored.key


@router.post("/sendTextStatus/{apiTokenInstance}", openapi_extra=json_body(TextStatusBody))
async def send_text_status(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Post a text status (``message``, ``backgroundColor``, ``font``, ``participants``)."""
    body = parse_body(TextStatusBody, await read_json(request, ctx.settings.http.max_body_bytes))
    extended: dict[str, Any] = {
        "text": body.message,
        "backgroundColor": body.backgroundColor or DEFAULT_BACKGROUND,
    }
    if body.font is not None:
        extended["font"] = body.font
    data = {"typeMessage": "extendedTextMessage", "extendedTextMessageData": extended}
    return await _post(ctx, instance, data, body.participants)


@router.post("/sendVoiceStatus/{apiTokenInstance}", openapi_extra=json_body(VoiceStatusBody))
async def send_voice_status(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Post a voice status from ``urlFile`` (``fileName``, ``backgroundColor``,
    ``participants``)."""
    body = parse_body(VoiceStatusBody, await read_json(request, ctx.settings.http.max_body_bytes))
    stored, key = await _file(ctx, instance, body.urlFile, body.fileName)
    name = safe_file_name(body.fileName, fallback=stored.file_name)
    link = ctx.media.link(instance.id_instance, key, name)
    data = file_message_data(stored, link=link, type_message="audioMessage", file_name=name)
    data["fileMessageData"]["backgroundColor"] = body.backgroundColor or DEFAULT_BACKGROUND
    return await _post(ctx, instance, data, body.participants, (stored, key))


@router.post("/sendMediaStatus/{apiTokenInstance}", openapi_extra=json_body(MediaStatusBody))
async def send_media_status(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Post an image or video status from ``urlFile`` (``fileName``, ``caption``,
    ``participants``)."""
    body = parse_body(MediaStatusBody, await read_json(request, ctx.settings.http.max_body_bytes))
    stored, key = await _file(ctx, instance, body.urlFile, body.fileName)
    if stored.type_message not in ("imageMessage", "videoMessage"):
        raise InvalidInput("urlFile must be an image or a video for a media status")
    name = safe_file_name(body.fileName, fallback=stored.file_name)
    link = ctx.media.link(instance.id_instance, key, name)
    data = file_message_data(stored, link=link, caption=body.caption or "", file_name=name)
    return await _post(ctx, instance, data, body.participants, (stored, key))


@router.post("/deleteStatus/{apiTokenInstance}", openapi_extra=json_body(StatusRefBody))
async def delete_status(instance: InstanceDep, request: Request, ctx: ContextDep) -> Response:
    """Delete an own status: an empty answer, or 400 ``ID message notfound``."""
    body = parse_body(StatusRefBody, await read_json(request, ctx.settings.http.max_body_bytes))
    deleted = await _call(ctx, instance, engine_calls.DELETE_STATUS, {"idMessage": body.idMessage})
    if not deleted:
        raise InvalidInput(NO_SUCH_STATUS)
    return Response(status_code=200)


@router.get("/getStatusStatistic/{apiTokenInstance}")
async def get_status_statistic(
    instance: InstanceDep, ctx: ContextDep, idMessage: str | None = None
) -> OrjsonResponse:
    """Who an own status went to and whether they saw it (``?idMessage=``)."""
    if not idMessage:
        raise InvalidInput("idMessage is required")
    views = await _call(ctx, instance, engine_calls.STATUS_STATISTIC, {"idMessage": idMessage})
    if views is None:
        raise InvalidInput(NO_SUCH_STATUS)
    return OrjsonResponse(
        [
            {
                "participant": v["participant"],
                "timestamp": v["timestampMs"] // 1000,
                "status": v["status"],
            }
            for v in views
        ]
    )


def _minutes(raw: str | None) -> int:
    if raw is None or raw == "":
        return MINUTES_DEFAULT
    if not is_digits(raw) or not 1 <= digits_value(raw) <= MINUTES_MAX:
        raise InvalidInput(f"minutes must be an integer from 1 to {MINUTES_MAX}")
    return digits_value(raw)


async def _statuses(
    ctx: Context, instance: InstanceView, *, incoming: bool, minutes: str | None
) -> list[dict[str, Any]]:
    since = now_ms() - _minutes(minutes) * 60_000
    found = await _call(
        ctx, instance, engine_calls.STATUSES, {"incoming": incoming, "sinceMs": since}
    )
    items = [await _item(ctx, instance, s, incoming=incoming) for s in found]
    if incoming:
        names = await _contact_names(ctx, instance, {i["senderId"] for i in items})
        for i in items:
            i["senderContactName"] = names.get(i["senderId"], "")
    return items


async def _contact_names(
    ctx: Context, instance: InstanceView, chat_ids: set[str]
) -> dict[str, str]:
    """The names the instance's address book (addContact) gives these chats."""
    names = {}
    async with ctx.db.reading() as session:
        for chat_id in chat_ids:
            found = await contacts.find(
                session=session, id_instance=instance.id_instance, chat_id=chat_id
            )
            if found is not None:
                parts = (found.get("firstName", ""), found.get("lastName", ""))
                names[chat_id] = " ".join(p for p in parts if p)
    return names


async def _item(
    ctx: Context, instance: InstanceView, s: dict[str, Any], *, incoming: bool
) -> dict[str, Any]:
    data = s["messageData"]
    item: dict[str, Any] = {
        "type": "incoming" if incoming else "outgoing",
        "idMessage": s["idMessage"],
        "timestamp": s["atMs"] // 1000,
        "typeMessage": data.get("typeMessage", ""),
    }
    if incoming:
        sender = s["sender"]
        name = sender.removesuffix("@c.us")
        item |= {"chatId": sender, "senderId": sender, "senderName": name, "senderContactName": ""}
    else:
        item |= {
            "chatId": STATUS_CHAT,
            "statusMessage": await _outgoing_status(ctx, instance, s["idMessage"]),
            "sendByApi": True,
        }
    extended = data.get("extendedTextMessageData")
    if isinstance(extended, dict):
        item["textMessage"] = extended.get("text", "")
        item["extendedTextMessage"] = dict(extended)
        if not incoming:
            item["extendedTextMessage"]["participants"] = s["participants"]
    file_data = data.get("fileMessageData")
    if isinstance(file_data, dict):
        if not incoming:
            item["participants"] = s["participants"]
        item |= {
            "downloadUrl": _fresh_link(ctx, s.get("media"), file_data),
            "caption": file_data.get("caption", ""),
            "fileName": file_data.get("fileName", ""),
            "jpegThumbnail": file_data.get("jpegThumbnail", ""),
            "mimeType": file_data.get("mimeType", ""),
        }
    return item


def _fresh_link(ctx: Context, media: Any, file_data: dict[str, Any]) -> str:
    """A fresh download link to a status's file (the one it was posted with may be stale)."""
    if not isinstance(media, dict) or not isinstance(media.get("key"), str):
        return str(file_data.get("downloadUrl", ""))
    owner = media.get("owner")
    name = str(file_data.get("fileName") or "file")
    return ctx.media.link(owner if isinstance(owner, int) else None, media["key"], name)


async def _outgoing_status(ctx: Context, instance: InstanceView, id_message: str) -> str:
    """How far an own status got: read once anyone saw it, delivered once anyone got it."""
    views = await _call(ctx, instance, engine_calls.STATUS_STATISTIC, {"idMessage": id_message})
    best = max((_STATUS_RANK.get(v["status"], 0) for v in views or []), default=0)
    return next(k for k, v in _STATUS_RANK.items() if v == best)


@router.get("/getIncomingStatuses/{apiTokenInstance}")
async def get_incoming_statuses(
    instance: InstanceDep, ctx: ContextDep, minutes: str | None = None
) -> OrjsonResponse:
    """Statuses the contacts posted in the last ``minutes`` (default 1440), newest first."""
    return OrjsonResponse(await _statuses(ctx, instance, incoming=True, minutes=minutes))


@router.get("/getOutgoingStatuses/{apiTokenInstance}")
async def get_outgoing_statuses(
    instance: InstanceDep, ctx: ContextDep, minutes: str | None = None
) -> OrjsonResponse:
    """The instance's own statuses of the last ``minutes`` (default 1440), newest first."""
    return OrjsonResponse(await _statuses(ctx, instance, incoming=False, minutes=minutes))
