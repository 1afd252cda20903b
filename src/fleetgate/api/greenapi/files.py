"""GREEN-API file methods: uploadFile, sendFileByUpload, sendFileByUrl, downloadFile.

The official clients send uploadFile and sendFileByUpload to a separate media host; fleetgate
serves every method on one host, so that host may be this server as well. Bodies stream into
the media store (api/uploads.py): nothing is held whole in memory.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.queue_form import queue_request
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.greenapi.sending_wire import (
    MessageRefBody,
    SendFileByUploadFields,
    SendFileByUrlBody,
)
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.sends import queue_send
from fleetgate.api.uploads import header_text, is_form, store_body, store_form
from fleetgate.context import Context
from fleetgate.domain.files import StoredFile, safe_file_name
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.services import journals
from fleetgate.services.files import file_message_data

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API files"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = ("uploadFile", "sendFileByUpload", "sendFileByUrl", "downloadFile")


_RAW_FILE = {"schema": {"type": "string", "format": "binary"}}


@router.post(
    "/uploadFile/{apiTokenInstance}",
    openapi_extra={
        "requestBody": {
            "content": {
                "application/octet-stream": _RAW_FILE,
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            }
        }
    },
)
async def upload_file(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Store a file (the raw body, named by the GA-Filename header, or a form's ``file``
    part) for sendFileByUrl; answers its urlFile."""
    if is_form(request):
        form = await store_form(request, ctx.media, id_instance=instance.id_instance)
        if form.file is None:
            raise InvalidInput("the form has no file part")
        file = form.file
    else:
        file = await store_body(
            request,
            ctx.media,
            id_instance=instance.id_instance,
            file_name=header_text(request, "ga-filename"),
        )
    return OrjsonResponse({"urlFile": _link(ctx, instance, file)})


@router.post(
    "/sendFileByUpload/{apiTokenInstance}",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {"schema": SendFileByUploadFields.model_json_schema()}
            }
        }
    },
)
async def send_file_by_upload(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Send a file given in a multipart form (``chatId``, ``file``, optional ``fileName``,
    ``caption``, ``quotedMessageId``); answers idMessage and the file's urlFile."""
    form = await store_form(request, ctx.media, id_instance=instance.id_instance)
    try:
        fields = parse_body(SendFileByUploadFields, form.fields)
        if form.file is None:
            raise InvalidInput("field file is required: the form has no file part")
        file = form.file
        name = safe_file_name(fields.fileName or "", fallback=file.file_name)
        link = _link_to(ctx, instance, file.key, name)
        data = file_message_data(file, link=link, caption=fields.caption or "", file_name=name)
        queued = queue_request("sendFileByUrl", fields, urlFile=link, fileName=name)
        id_message = await queue_send(
            ctx,
            instance,
            fields.chatId,
            data,
            fields.quotedMessageId,
            media_key=file.key,
            request=queued,
        )
    except BaseException:
        if form.file is not None:
            await ctx.media.forget(form.file)
        raise
    return OrjsonResponse({"idMessage": id_message, "urlFile": link})


@router.post(
    "/sendFileByUrl/{apiTokenInstance}",
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": SendFileByUrlBody.model_json_schema()}}
        }
    },
)
async def send_file_by_url(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Send a file by URL. A link fleetgate gave this instance (uploadFile) is read from the
    store; any other URL is fetched when the message's turn comes (a failure then fails the
    message, with an outgoingMessageStatus saying why)."""
    body = parse_body(SendFileByUrlBody, await read_json(request, ctx.settings.http.max_body_bytes))
    key = ctx.media.own_key(body.urlFile, instance.id_instance)
    data: dict[str, Any] = body.message_data()
    if key is not None:
        found = await ctx.media.find(key)
        if found is None:
            raise InvalidInput("urlFile names a file that is no longer kept")
        file = found[0]
        name = safe_file_name(body.fileName, fallback=file.file_name)
        link = _link_to(ctx, instance, key, name)
        data = file_message_data(file, link=link, caption=body.caption or "", file_name=name)
    id_message = await queue_send(
        ctx,
        instance,
        body.chatId,
        data,
        body.quotedMessageId,
        media_key=key,
        request=queue_request("sendFileByUrl", body),
    )
    return OrjsonResponse({"idMessage": id_message})


@router.post("/downloadFile/{apiTokenInstance}", openapi_extra=json_body(MessageRefBody))
async def download_file(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """A fresh download link to the file of a message sent or received: ``{chatId,
    idMessage}`` → ``{downloadUrl}``."""
    body = parse_body(MessageRefBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        message = await journals.find_message(
            session=session, id_instance=instance.id_instance, id_message=body.idMessage
        )
    if message is None or message.chat_id != body.chatId:
        raise NotFound(f"no message {body.idMessage} in chat {body.chatId}")
    if message.media_key is None:
        raise InvalidInput(
            f"File message encrypted url not found by chatId {body.chatId} and idMessage "
            f"{body.idMessage}: not a file message, or its file is not stored yet"
        )
    found = await ctx.media.find(message.media_key)
    if found is None:
        raise NotFound(f"the file of message {body.idMessage} is no longer kept")
    return OrjsonResponse(
        {"downloadUrl": _link_to(ctx, instance, message.media_key, found[0].file_name)}
    )


def _link(ctx: Context, instance: InstanceView, file: StoredFile) -> str:
    return ctx.media.link(instance.id_instance, file.key, file.file_name)


def _link_to(ctx: Context, instance: InstanceView, key: str, name: str) -> str:
    return ctx.media.link(instance.id_instance, key, name)
