"""GREEN-API send request bodies, validated, and the messageData each one becomes."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from fleetgate.api import message_data
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_GROUP, CHAT_PHONE

CHAT_ID = re.compile(rf"(?:{CHAT_PHONE}@c\.us|{CHAT_GROUP}@g\.us)")
_STRICT = ConfigDict(extra="forbid", strict=True)
MessageId = Annotated[str, Field(max_length=64, pattern=NO_CONTROL)]


def check_chat_id(value: str, field: str = "chatId") -> str:
    if not CHAT_ID.fullmatch(value):
        raise InvalidInput(f"{field} must be <phone digits>@c.us or <group id>@g.us")
    return value


ChatId = Annotated[str, AfterValidator(check_chat_id)]


class _ToChat(BaseModel):
    model_config = _STRICT

    chatId: ChatId
    quotedMessageId: MessageId | None = None


class SendMessageBody(_ToChat):
    """A text message."""

    message: str = Field(min_length=1, max_length=MESSAGE_MAX)
    linkPreview: bool | None = None
    archiveChat: bool | None = None
    typingTime: int | None = Field(None, ge=0, le=20_000)
    typePreview: Literal["large", "small"] | None = None
    customPreview: dict[str, Any] | None = None

    def message_data(self) -> dict[str, Any]:
        return {"typeMessage": "textMessage", "textMessageData": {"textMessage": self.message}}


class SendFileByUrlBody(_ToChat):
    """A file the recipient downloads from a URL."""

    urlFile: str = Field(min_length=1, max_length=2048, pattern=r"^https?://[^\s]+$")
    fileName: str = Field(min_length=1, max_length=255)
    caption: str | None = Field(None, max_length=MESSAGE_MAX)

    def message_data(self) -> dict[str, Any]:
        return {
            "typeMessage": _file_type(self.fileName),
            "fileMessageData": {
                "downloadUrl": self.urlFile,
                "caption": self.caption or "",
                "fileName": self.fileName,
                "jpegThumbnail": "",
                "mimeType": "",
            },
        }


class SendFileByUploadFields(BaseModel):
    """The text fields of a sendFileByUpload form (its file part is read apart)."""

    model_config = ConfigDict(extra="forbid")

    chatId: ChatId
    fileName: str | None = Field(None, max_length=255)
    caption: str | None = Field(None, max_length=MESSAGE_MAX)
    quotedMessageId: MessageId | None = None


class SendLocationBody(_ToChat):
    """A point on the map."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    nameLocation: str | None = Field(None, max_length=1000)
    address: str | None = Field(None, max_length=1000)

    def message_data(self) -> dict[str, Any]:
        return message_data.location(
            self.nameLocation or "", self.address or "", self.latitude, self.longitude
        )


class Contact(BaseModel):
    model_config = _STRICT

    phoneContact: int = Field(ge=1_000_000, le=999_999_999_999_999)
    firstName: str | None = Field(None, max_length=255)
    middleName: str | None = Field(None, max_length=255)
    lastName: str | None = Field(None, max_length=255)
    company: str | None = Field(None, max_length=255)


class SendContactBody(_ToChat):
    """A contact card."""

    contact: Contact

    def message_data(self) -> dict[str, Any]:
        c = self.contact
        name = " ".join(p for p in (c.firstName, c.middleName, c.lastName) if p) or str(
            c.phoneContact
        )
        card = message_data.vcard(name, [str(c.phoneContact)], c.company or "")
        return message_data.contact(name, card)


class PollOption(BaseModel):
    model_config = _STRICT
    optionName: str = Field(min_length=1, max_length=100)


class SendPollBody(_ToChat):
    """A poll: a question and 2 to 12 distinct options."""

    message: str = Field(min_length=1, max_length=255)
    options: list[PollOption] = Field(min_length=2, max_length=12)
    multipleAnswers: bool | None = None

    @field_validator("options")
    @classmethod
    def _distinct(cls, value: list[PollOption]) -> list[PollOption]:
        if len({o.optionName for o in value}) != len(value):
            raise InvalidInput("poll options must be different from each other")
        return value

    def message_data(self) -> dict[str, Any]:
        options = [o.optionName for o in self.options]
        return message_data.poll(self.message, options, multiple=bool(self.multipleAnswers))


class ForwardMessagesBody(BaseModel):
    """Messages of one chat to forward to another."""

    model_config = _STRICT

    chatId: ChatId
    chatIdFrom: Annotated[str, AfterValidator(lambda v: check_chat_id(v, "chatIdFrom"))]
    messages: list[MessageId] = Field(min_length=1, max_length=100)


class ChatBody(BaseModel):
    """A chat, and optionally one message in it."""

    model_config = _STRICT

    chatId: ChatId
    idMessage: MessageId | None = None


class ChatHistoryBody(BaseModel):
    model_config = _STRICT

    chatId: ChatId
    count: int | None = Field(None, ge=1, le=1000)


class MessageRefBody(BaseModel):
    model_config = _STRICT

    chatId: ChatId
    idMessage: Annotated[MessageId, Field(min_length=1)]


class PhoneBody(BaseModel):
    """A phone number as an integer, or (as the official client prefers) a chatId."""

    model_config = _STRICT

    phoneNumber: int | None = None
    chatId: str | None = None
    force: bool | None = None

    def phone(self) -> str:
        if self.phoneNumber is not None:
            return str(self.phoneNumber) if self.phoneNumber > 0 else ""
        if self.chatId is not None and self.chatId.endswith("@c.us"):
            return self.chatId.removesuffix("@c.us")
        raise InvalidInput("field phoneNumber is required")


def _file_type(file_name: str) -> str:
    ext = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if ext in ("jpg", "jpeg", "png", "gif", "webp"):
        return "imageMessage"
    if ext in ("mp4", "mov", "avi", "3gp"):
        return "videoMessage"
    if ext in ("mp3", "ogg", "oga", "wav", "m4a", "aac", "opus"):
        return "audioMessage"
    return "documentMessage"
