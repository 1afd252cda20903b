"""Z-API media sends: image, audio, video, document, sticker, GIF and PTV.

Each is queued like send-text and answered with the same triple. A file given as base64 is
stored before the message is queued and forgotten again if it is not queued after all, so a
refused send leaves nothing behind. Bodies may carry a whole file as base64: they are read up
to a limit derived from ``media.max_file_bytes`` rather than ``http.max_body_bytes``.
"""

from __future__ import annotations

import re

from fastapi import APIRouter, Request

from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send
from fleetgate.api.zapi import media_wire as wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.media_values import body_limit, prepare
from fleetgate.api.zapi.sending import chat_id
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.services import zapi_callbacks

router = APIRouter(prefix=PREFIX, tags=["Z-API media sending"], route_class=ZapiRoute)

_EXTENSION = re.compile(r"^[A-Za-z0-9]{1,16}$")


async def send_media(
    ctx: Context,
    instance: InstanceView,
    request: Request,
    model: type[wire.MediaSend],
    extension: str = "",
) -> OrjsonResponse:
    """Check the body, store or name its file, queue the message; the send triple."""
    body = await parsed(model, request, ctx, body_limit(ctx.settings))
    if getattr(body, "editDocumentMessageId", None):
        raise InvalidInput("editDocumentMessageId is not supported: messages cannot be edited here")
    to = chat_id(body.phone)
    prepared = await prepare(
        ctx,
        instance,
        body.media(),
        field=model.FIELD,
        kind=model.KIND,
        caption=body.caption_text(),
        file_name=body.file_name(extension),
    )
    try:
        id_message = await queue_send(
            ctx,
            instance,
            to,
            prepared.data,
            body.messageId,
            media_key=prepared.media_key,
            delay_ms=(body.delayMessage or 0) * 1000,
            quoted_field="messageId",
        )
    except BaseException:
        if prepared.stored is not None:
            await ctx.media.forget(prepared.stored)
        raise
    zaap_id = zapi_callbacks.zaap_id(instance.id_instance, id_message)
    return OrjsonResponse({"zaapId": zaap_id, "messageId": id_message, "id": id_message})


@router.post("/send-image", openapi_extra=json_body(wire.SendImage))
async def send_image(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue an image (``image``: URL or base64 data URI), with an optional ``caption``."""
    return await send_media(ctx, instance, request, wire.SendImage)


@router.post("/send-audio", openapi_extra=json_body(wire.SendAudio))
async def send_audio(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue an audio file (``audio``: URL or base64 data URI)."""
    return await send_media(ctx, instance, request, wire.SendAudio)


@router.post("/send-video", openapi_extra=json_body(wire.SendVideo))
async def send_video(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue a video (``video``: URL or base64 data URI), with an optional ``caption``."""
    return await send_media(ctx, instance, request, wire.SendVideo)


@router.post("/send-gif", openapi_extra=json_body(wire.SendGif))
async def send_gif(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue a GIF (``gif``: an MP4 by URL or base64 data URI); it is sent as a video."""
    return await send_media(ctx, instance, request, wire.SendGif)


@router.post("/send-ptv", openapi_extra=json_body(wire.SendPtv))
async def send_ptv(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue a video note (``ptv`` or ``video``: URL or base64 data URI), sent as a video."""
    return await send_media(ctx, instance, request, wire.SendPtv)


@router.post("/send-sticker", openapi_extra=json_body(wire.SendSticker))
async def send_sticker(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Queue a sticker (``sticker``: a WebP by URL or base64 data URI)."""
    return await send_media(ctx, instance, request, wire.SendSticker)


@router.post("/send-document/{extension}", openapi_extra=json_body(wire.SendDocument))
async def send_document(
    extension: str, instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Queue a document (``document``: URL or base64 data URI) named ``fileName``, which gets
    ``.{extension}`` added unless it ends so already."""
    if not _EXTENSION.fullmatch(extension):
        raise InvalidInput("the extension must be 1-16 letters or digits, such as pdf")
    return await send_media(ctx, instance, request, wire.SendDocument, extension)


@router.post("/send-document", openapi_extra=json_body(wire.SendDocument))
async def send_document_any(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Queue a document without an extension in the path: ``fileName`` is kept as given, or
    the name comes from the URL or, failing that, from the file's bytes."""
    return await send_media(ctx, instance, request, wire.SendDocument)
