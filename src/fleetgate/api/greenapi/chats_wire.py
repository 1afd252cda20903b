"""GREEN-API bodies of the chat and message-action methods and of the interactive buttons."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from fleetgate.api import message_data
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL
from fleetgate.api.greenapi.sending_wire import ChatId, MessageId
from fleetgate.domain.chats import EPHEMERAL_EXPIRATIONS
from fleetgate.errors import InvalidInput

_STRICT = ConfigDict(extra="forbid", strict=True)
TYPING_MIN_MS = 1000
TYPING_MAX_MS = 20_000
ButtonText = Annotated[str, Field(min_length=1, max_length=25, pattern=NO_CONTROL)]
ButtonId = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_CONTROL)]
Part = Annotated[str, Field(max_length=MESSAGE_MAX)]


class ChatOnlyBody(BaseModel):
    """A chat."""

    model_config = _STRICT
    chatId: ChatId


class DeleteMessageBody(BaseModel):
    """A message to delete: for everyone, or (``onlySenderDelete``) only on our side."""

    model_config = _STRICT
    chatId: ChatId
    idMessage: Annotated[MessageId, Field(min_length=1)]
    onlySenderDelete: bool | None = None


class EditMessageBody(BaseModel):
    """A sent text message's new text."""

    model_config = _STRICT
    chatId: ChatId
    idMessage: Annotated[MessageId, Field(min_length=1)]
    message: str = Field(min_length=1, max_length=MESSAGE_MAX)


class DisappearingBody(BaseModel):
    """A chat's disappearing-messages timer, in seconds (0: off)."""

    model_config = _STRICT
    chatId: ChatId
    ephemeralExpiration: int = 0

    @field_validator("ephemeralExpiration")
    @classmethod
    def _known(cls, value: int) -> int:
        if value not in EPHEMERAL_EXPIRATIONS:
            allowed = ", ".join(str(v) for v in EPHEMERAL_EXPIRATIONS)
            raise InvalidInput(
                f"Validation failed. Details: 'ephemeralExpiration' must be one of [{allowed}]"
            )
        return value


class SendTypingBody(BaseModel):
    """Typing (or, ``typingType: "recording"``, recording) shown in a chat for a while."""

    model_config = ConfigDict(extra="forbid")
    chatId: ChatId
    typingTime: Any = None
    typingType: Literal["recording", "typing"] | None = None

    def duration_ms(self) -> int:
        """``typingTime`` checked as GREEN-API checks it (default 1000 ms)."""
        value = self.typingTime
        if value is None:
            return TYPING_MIN_MS
        if isinstance(value, bool) or not isinstance(value, int):
            raise InvalidInput("'typingTime' must be a number")
        if value < TYPING_MIN_MS:
            raise InvalidInput(f"'typingTime' must be larger than or equal to {TYPING_MIN_MS}")
        if value > TYPING_MAX_MS:
            raise InvalidInput(f"'typingTime' must be less than or equal to {TYPING_MAX_MS}")
        return value


class ActionButton(BaseModel):
    """A button that copies a code, calls a number or opens a URL."""

    model_config = _STRICT
    type: Literal["copy", "call", "url"]
    buttonId: ButtonId
    buttonText: ButtonText
    copyCode: Annotated[str, Field(min_length=1, max_length=256)] | None = None
    phoneNumber: Annotated[str, Field(min_length=1, max_length=32)] | None = None
    url: Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^https?://\S+$")] | None = (
        None
    )

    def checked(self) -> dict[str, Any]:
        """The button as sent on, refused when it lacks what its type needs."""
        needs = {"copy": "copyCode", "call": "phoneNumber", "url": "url"}[self.type]
        if getattr(self, needs) is None:
            raise InvalidInput(f"a {self.type} button needs {needs}")
        return self.model_dump(exclude_none=True)


class ReplyButton(BaseModel):
    model_config = _STRICT
    buttonId: ButtonId
    buttonText: ButtonText


class _Interactive(BaseModel):
    model_config = _STRICT
    chatId: ChatId
    header: Part | None = None
    body: str = Field(min_length=1, max_length=MESSAGE_MAX)
    footer: Part | None = None
    typingTime: int | None = Field(None, ge=0, le=TYPING_MAX_MS)
    quotedMessageId: MessageId | None = None

    def _data(self, type_message: str, buttons: list[dict[str, Any]]) -> dict[str, Any]:
        return message_data.buttons(
            type_message, self.body, buttons, header=self.header or "", footer=self.footer or ""
        )


class SendInteractiveButtonsBody(_Interactive):
    """A message with up to three buttons that copy a code, call or open a URL."""

    buttons: list[ActionButton] = Field(min_length=1, max_length=3)

    def message_data(self) -> dict[str, Any]:
        return self._data("interactiveButtons", [b.checked() for b in self.buttons])


class SendInteractiveButtonsReplyBody(_Interactive):
    """A message with up to three quick-reply buttons."""

    buttons: list[ReplyButton] = Field(min_length=1, max_length=3)

    def message_data(self) -> dict[str, Any]:
        buttons = [{"type": "reply", **b.model_dump()} for b in self.buttons]
        return self._data("interactiveButtonsReply", buttons)
