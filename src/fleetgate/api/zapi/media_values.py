"""A Z-API media value turned into the message that carries it.

The value is an http(s) URL, a data URI ``data:<mime>;base64,<data>``, or bare base64 (the
Z-API pages show only the first two; bare base64 is accepted too, since it cannot be taken for
a URL: ``:`` and ``.`` are not in its alphabet). Base64 is decoded and stored before the
message is queued, and the message type then comes from the bytes (the declared MIME type is
not trusted). A link fleetgate gave this instance is read from the store; any other URL is
fetched by the runner when the message's turn comes, as GREEN-API's sendFileByUrl is.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from fleetgate.context import Context
from fleetgate.domain.files import StoredFile, safe_file_name
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.services.files import file_message_data
from fleetgate.services.media import FileTooLarge
from fleetgate.settings import Settings

URL_MAX = 2048
# Room in a JSON body for the other fields and the data URI's header, beside the base64.
BODY_SLACK = 64 * 1024
# Characters of base64 decoded at a time (a multiple of 4: 3 MiB of file).
_PIECE = 4 * 1024 * 1024
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
    check = functools.partial(base64_start, value, field, ctx.media.max_bytes)
    # Checking a large file's base64 takes a while: not on the event loop.
    start = await asyncio.to_thread(check) if len(value) > _PIECE else check()
    file = await ctx.media.store(
        _decoded(value, start, field), id_instance=instance.id_instance, file_name=file_name
    )
    link = ctx.media.link(instance.id_instance, file.key, file.file_name)
    data = file_message_data(file, link=link, caption=caption, type_message=_type(kind, file))
    return Prepared(data, file.key, file)


def base64_start(value: str, field: str, limit: int) -> int:
    """Where the base64 of a data URI (or of bare base64) starts in ``value``, once all of it
    is checked to decode (InvalidInput) to at most ``limit`` bytes (FileTooLarge)."""
    start = 0
    if value[:5].lower() == "data:":
        comma = value.find(",")
        if comma < 0 or value[5:comma].rsplit(";", 1)[-1].strip().lower() != "base64":
            raise InvalidInput(f"{field} must be a base64 data URI: data:<mime>;base64,<data>")
        start = comma + 1
    size = 0
    for piece in base64_pieces(value, start):
        size += len(_decode(piece, field))
        if size > limit:
            raise FileTooLarge(f"{field} is larger than the limit of {limit} bytes")
    if size == 0:
        raise InvalidInput(f"{field} holds no data")
    return start


async def _decoded(value: str, start: int, field: str) -> AsyncIterator[bytes]:
    for piece in base64_pieces(value, start):
        yield _decode(piece, field)


def base64_pieces(text: str, start: int) -> Iterator[str]:
    """The base64 in ``text[start:]`` in pieces of whole 4-character groups (decoded one at a
    time: a large file is never copied whole). Line breaks (base64 wrapped at 76 characters)
    are dropped and missing ``=`` padding is added: both are common."""
    carry = ""
    for at in range(start, len(text), _PIECE):
        piece = carry + text[at : at + _PIECE]
        if any(space in piece for space in _SPACES):
            piece = "".join(piece.split())
        cut = len(piece) - len(piece) % 4
        carry = piece[cut:]
        if cut:
            yield piece[:cut]
    if carry:
        yield carry + "=" * (-len(carry) % 4)


def _decode(piece: str, field: str) -> bytes:
    try:
        return base64.b64decode(piece, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(
            f"{field} must be an http(s) URL or base64 data (data:<mime>;base64,<data>)"
        ) from None


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
