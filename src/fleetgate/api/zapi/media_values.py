"""A Z-API media value turned into the message that carries it.

The value is an http(s) URL, a data URI ``data:<mime>;base64,<data>``, or bare base64 (the
Z-API pages show only the first two; bare base64 is accepted too, since it cannot be taken for
a URL: ``:`` and ``.`` are not in its alphabet). Base64 is decoded and stored before the
message is queued, and the message type then comes from the bytes (the declared MIME type is
not trusted). A link fleetgate gave this instance is read from the store; any other URL is
fetched by the runner when the message's turn comes, as GREEN-API's sendFileByUrl is.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from fleetgate.context import Context
from fleetgate.domain.files import StoredFile, safe_file_name
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.services.files import file_message_data
from fleetgate.settings import Settings

URL_MAX = 2048
# Room in a JSON body for the other fields and the data URI's header, beside the base64.
BODY_SLACK = 64 * 1024
_CHUNK = 1024 * 1024
_URL = re.compile(r"^https?://[^\s/?#]+[^\s]*$", re.IGNORECASE)
_STICKER = "stickerMessage"
_SPACES = (" ", "\n", "\r", "\t")


@dataclass(frozen=True, slots=True)
class Prepared:
    """A file message's data, its file row key (if stored), and the file stored for this
    request alone (to forget if the message is not queued after all)."""

    data: dict[str, Any]
    media_key: str | None = None
    stored: StoredFile | None = None


def body_limit(settings: Settings) -> int:
    """The largest JSON body of a media send: base64 of the largest file, plus slack."""
    encoded = -(-settings.media.max_file_bytes // 3) * 4
    return max(settings.http.max_body_bytes, encoded + BODY_SLACK)


async def prepare(
    ctx: Context,
    instance: InstanceView,
    value: str,
    *,
    field: str,
    kind: str,
    caption: str,
    file_name: str,
) -> Prepared:
    """The message data of a file given as ``value`` (the body's ``field``); ``kind`` is the
    route's message type. InvalidInput for a value that is neither URL nor base64."""
    if _URL.match(value):
        if len(value) > URL_MAX:
            raise InvalidInput(f"{field} must be a URL of at most {URL_MAX} characters")
        return await _by_url(ctx, instance, value, field, kind, caption, file_name)
    raw = decoded(value, field)
    file = await ctx.media.store(
        _chunks(raw), id_instance=instance.id_instance, file_name=file_name
    )
    link = ctx.media.link(instance.id_instance, file.key, file.file_name)
    data = file_message_data(file, link=link, caption=caption, type_message=_type(kind, file))
    return Prepared(data, file.key, file)


def decoded(value: str, field: str) -> bytes:
    """The bytes of a base64 data URI, or of bare base64. InvalidInput otherwise."""
    payload = value
    if value[:5].lower() == "data:":
        header, comma, payload = value[5:].partition(",")
        if not comma or header.rsplit(";", 1)[-1].strip().lower() != "base64":
            raise InvalidInput(f"{field} must be a base64 data URI: data:<mime>;base64,<data>")
    # Line-wrapped base64 (76 characters a line) and missing padding are common: tolerated.
    if any(space in payload for space in _SPACES):
        payload = "".join(payload.split())
    payload += "=" * (-len(payload) % 4)
    try:
        raw = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{field} must be an http(s) URL or base64 data (data:<mime>;base64,<data>)"
        ) from None
    if not raw:
        raise InvalidInput(f"{field} holds no data")
    return raw


async def _by_url(
    ctx: Context,
    instance: InstanceView,
    url: str,
    field: str,
    kind: str,
    caption: str,
    file_name: str,
) -> Prepared:
    key = ctx.media.own_key(url, instance.id_instance)
    if key is None:
        name = file_name or unquote(urlsplit(url).path.rsplit("/", 1)[-1])
        file_data = {
            "downloadUrl": url,
            "caption": caption,
            "fileName": safe_file_name(name, fallback=""),
            "jpegThumbnail": "",
            "mimeType": "",
        }
        return Prepared({"typeMessage": kind, "fileMessageData": file_data})
    found = await ctx.media.find(key)
    if found is None:
        raise InvalidInput(f"{field} names a file that is no longer kept")
    file = found[0]
    name = safe_file_name(file_name, fallback=file.file_name)
    link = ctx.media.link(instance.id_instance, key, name)
    data = file_message_data(
        file, link=link, caption=caption, type_message=_type(kind, file), file_name=name
    )
    return Prepared(data, key)


def _type(kind: str, file: StoredFile) -> str:
    # WhatsApp shows a sticker only as a sticker; everything else goes as its bytes say.
    return _STICKER if kind == _STICKER else file.type_message


async def _chunks(raw: bytes) -> AsyncIterator[bytes]:
    view = memoryview(raw)
    for start in range(0, len(raw), _CHUNK):
        yield bytes(view[start : start + _CHUNK])
