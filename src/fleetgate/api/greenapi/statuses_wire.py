"""GREEN-API status request bodies (spec §10), validated."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fleetgate.api.greenapi.sending_wire import MessageId
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_PHONE

_STRICT = ConfigDict(extra="forbid", strict=True)
_PARTICIPANT = re.compile(rf"{CHAT_PHONE}@c\.us")
Font = Literal["SERIF", "SANS_SERIF", "NORICAN_REGULAR", "BRYNDAN_WRITE", "OSWALD_HEAVY"]


def _participants(value: list[str] | None) -> list[str] | None:
    for item in value or []:
        if not _PARTICIPANT.fullmatch(item):
            raise InvalidInput("participants must be a list of <phone digits>@c.us")
    return value


Participants = Annotated[list[str] | None, AfterValidator(_participants)]
Color = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$")]


class TextStatusBody(BaseModel):
    """A text status."""

    model_config = _STRICT
    message: str = Field(min_length=1, max_length=500)
    backgroundColor: Color | None = None
    font: Font | None = None
    participants: Participants = None


class VoiceStatusBody(BaseModel):
    """A voice status: an audio file by URL."""

    model_config = _STRICT
    urlFile: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\s]+$")
    fileName: str = Field(min_length=1, max_length=255)
    backgroundColor: Color | None = None
    participants: Participants = None


class MediaStatusBody(BaseModel):
    """An image or video status by URL."""

    model_config = _STRICT
    urlFile: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\s]+$")
    fileName: str = Field(min_length=1, max_length=255)
    caption: str | None = Field(None, max_length=1024)
    participants: Participants = None


class StatusRefBody(BaseModel):
    model_config = _STRICT
    idMessage: MessageId
