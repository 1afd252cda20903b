"""Z-API media send bodies: ``send-image``, ``-audio``, ``-video``, ``-document``, ``-sticker``,
``-gif`` and ``-ptv``.

Each names its file in one field (an http(s) URL or base64, see media_values.py) and says which
message type a file named by URL starts as; the runner then corrects it from the bytes
(stickers excepted). Options fleetgate cannot apply (``viewOnce``, ``async``, ``waveform``,
``delayTyping``, ``stickerAuthor``) are accepted, type-checked and otherwise ignored.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL
from fleetgate.errors import InvalidInput

_BODY = ConfigDict(extra="ignore", strict=True, populate_by_name=True)
NAME_MAX = 255


class MediaSend(BaseModel):
    """What every media send has: the chat, a pause, a reply-to and the file's field."""

    model_config = _BODY
    FIELD: ClassVar[str]
    KIND: ClassVar[str]

    phone: str = Field(min_length=1, max_length=64)
    delayMessage: int | None = Field(None, ge=1, le=15)
    messageId: str | None = Field(None, min_length=1, max_length=64, pattern=NO_CONTROL)

    def media(self) -> str:
        """The file: a URL, a data URI or bare base64."""
        value: str = getattr(self, self.FIELD)
        return value

    def caption_text(self) -> str:
        return ""

    def file_name(self, extension: str = "") -> str:
        """The name the file is shown and downloaded under ("": from its URL or bytes)."""
        return ""


class _Captioned(MediaSend):
    caption: str | None = Field(None, max_length=MESSAGE_MAX)

    def caption_text(self) -> str:
        return self.caption or ""


class SendImage(_Captioned):
    """POST send-image."""

    FIELD = "image"
    KIND = "imageMessage"
    image: str = Field(min_length=1)
    viewOnce: bool | None = None


class SendAudio(MediaSend):
    """POST send-audio."""

    FIELD = "audio"
    KIND = "audioMessage"
    audio: str = Field(min_length=1)
    delayTyping: int | None = Field(None, ge=0, le=15)
    viewOnce: bool | None = None
    async_: bool | None = Field(None, alias="async")
    waveform: bool | None = None


class SendVideo(_Captioned):
    """POST send-video."""

    FIELD = "video"
    KIND = "videoMessage"
    video: str = Field(min_length=1)
    viewOnce: bool | None = None
    async_: bool | None = Field(None, alias="async")


class SendGif(_Captioned):
    """POST send-gif (an MP4; it travels, and arrives, as a video)."""

    FIELD = "gif"
    KIND = "videoMessage"
    gif: str = Field(min_length=1)


class SendPtv(MediaSend):
    """POST send-ptv (a round video note, sent as a video): ``ptv``, or ``video`` as one
    Z-API table names it."""

    FIELD = "ptv"
    KIND = "videoMessage"
    ptv: str | None = Field(None, min_length=1)
    video: str | None = Field(None, min_length=1)

    def media(self) -> str:
        value = self.ptv or self.video
        if value is None:
            raise InvalidInput("field ptv is required")
        return value


class SendSticker(MediaSend):
    """POST send-sticker."""

    FIELD = "sticker"
    KIND = "stickerMessage"
    sticker: str = Field(min_length=1)
    stickerAuthor: str | None = Field(None, max_length=NAME_MAX)


class SendDocument(_Captioned):
    """POST send-document/{extension} (and send-document, the extension then from
    ``fileName`` or the bytes)."""

    FIELD = "document"
    KIND = "documentMessage"
    document: str = Field(min_length=1)
    fileName: str | None = Field(None, max_length=NAME_MAX)
    editDocumentMessageId: str | None = Field(None, max_length=64)

    def file_name(self, extension: str = "") -> str:
        """``fileName`` ending in ``.<extension>`` (added if missing)."""
        name = (self.fileName or "").strip()
        if not extension or name.lower().endswith(f".{extension.lower()}"):
            return name
        return f"{name or 'document'}.{extension}"
