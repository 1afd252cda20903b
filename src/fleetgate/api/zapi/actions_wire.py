"""Z-API bodies of the other sends and of the message actions (spec §8, §9), and the GREEN-API
messageData each send becomes, so a Z-API send queues what its GREEN-API twin queues.

Unknown keys are ignored and known ones type-checked, as for send-text. Options fleetgate
cannot apply (``delayTyping``, ``linkType``) are accepted, type-checked and otherwise ignored.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api import message_data
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL
from fleetgate.errors import InvalidInput

_BODY = ConfigDict(extra="ignore", strict=True)
MessageId = Annotated[str, Field(min_length=1, max_length=64, pattern=NO_CONTROL)]
Name = Annotated[str, Field(min_length=1, max_length=255, pattern=NO_CONTROL)]
Digits = Annotated[str, Field(pattern=r"^[0-9]{7,15}$")]
Url = Annotated[str, Field(min_length=1, max_length=2048, pattern=r"^https?://\S+$")]
ButtonLabel = Annotated[str, Field(min_length=1, max_length=25, pattern=NO_CONTROL)]
ButtonId = Annotated[str, Field(min_length=1, max_length=256, pattern=NO_CONTROL)]
BUTTONS_MAX = 3


class ChatSend(BaseModel):
    """What every send has: the chat and a pause (``delayTyping`` accepted, not shown)."""

    model_config = _BODY
    phone: str = Field(min_length=1, max_length=64)
    delayMessage: int | None = Field(None, ge=1, le=15)
    delayTyping: int | None = Field(None, ge=0, le=15)


class QueuedSend(ChatSend):
    """A send that queues one message, maybe a reply to (quote of) ``messageId``."""

    messageId: MessageId | None = None

    def message_data(self) -> dict[str, Any]:
        """The GREEN-API messageData to queue."""
        raise NotImplementedError


class SendLink(QueuedSend):
    """POST send-link: a text with a link preview."""

    message: str = Field(min_length=1, max_length=MESSAGE_MAX)
    image: Url
    linkUrl: Url
    title: str = Field(max_length=1000)
    linkDescription: str = Field(max_length=1000)
    linkType: Literal["SMALL", "MEDIUM", "LARGE"] | None = None

    def message_data(self) -> dict[str, Any]:
        # The preview belongs to the link the text ends with: one the text lacks is added.
        text = self.message if self.linkUrl in self.message else f"{self.message}\n{self.linkUrl}"
        return {
            "typeMessage": "extendedTextMessage",
            "extendedTextMessageData": {
                "text": text,
                "description": self.linkDescription,
                "title": self.title,
                "previewType": "None",
                "jpegThumbnail": "",
            },
        }


def _coordinate(value: str | float, name: str, bound: float) -> float:
    """A latitude or longitude, given as a number or (as Z-API documents) a string."""
    try:
        number = float(value)
    except ValueError:
        raise InvalidInput(f"{name} must be a number") from None
    if not math.isfinite(number) or abs(number) > bound:
        raise InvalidInput(f"{name} must be between -{bound:g} and {bound:g}")
    return number


class SendLocation(QueuedSend):
    """POST send-location."""

    title: str = Field(max_length=1000)
    address: str = Field(max_length=1000)
    latitude: str | float = Field(union_mode="left_to_right")
    longitude: str | float = Field(union_mode="left_to_right")

    def message_data(self) -> dict[str, Any]:
        latitude = _coordinate(self.latitude, "latitude", 90)
        longitude = _coordinate(self.longitude, "longitude", 180)
        return message_data.location(self.title, self.address, latitude, longitude)


class SendContact(QueuedSend):
    """POST send-contact."""

    contactName: Name
    contactPhone: Digits
    contactBusinessDescription: str | None = Field(None, max_length=255, pattern=NO_CONTROL)

    def message_data(self) -> dict[str, Any]:
        organization = self.contactBusinessDescription or ""
        card = message_data.vcard(self.contactName, [self.contactPhone], organization)
        return message_data.contact(self.contactName, card)


class ContactCard(BaseModel):
    model_config = _BODY
    name: Name
    phones: list[Digits] = Field(min_length=1, max_length=10)
    businessDescription: str | None = Field(None, max_length=255, pattern=NO_CONTROL)


class SendContacts(QueuedSend):
    """POST send-contacts: several contact cards in one message."""

    contacts: list[ContactCard] = Field(min_length=1, max_length=50)

    def message_data(self) -> dict[str, Any]:
        cards = [
            {
                "displayName": c.name,
                "vcard": message_data.vcard(c.name, c.phones, c.businessDescription or ""),
            }
            for c in self.contacts
        ]
        # GREEN-API names the object holding the cards "messageData", inside messageData.
        return {"typeMessage": "contactsArrayMessage", "messageData": {"contacts": cards}}


class Option(BaseModel):
    model_config = _BODY
    name: str = Field(min_length=1, max_length=100, pattern=NO_CONTROL)


class SendPoll(QueuedSend):
    """POST send-poll: a question and 2 to 12 distinct options."""

    message: str = Field(min_length=1, max_length=255)
    poll: list[Option] = Field(min_length=2, max_length=12)
    pollMaxOptions: int | None = Field(None, ge=0, le=12)

    def message_data(self) -> dict[str, Any]:
        # One choice only when Z-API says 1; none given (or 0) lets voters pick several.
        options = [o.name for o in self.poll]
        return message_data.poll(self.message, options, multiple=self.pollMaxOptions != 1)


class SendPollVote(ChatSend):
    """POST send-poll-vote: the instance votes in a poll of the chat."""

    pollMessageId: MessageId
    pollVote: list[Option] = Field(min_length=1, max_length=12)

    def chosen(self) -> list[str]:
        names = [o.name for o in self.pollVote]
        if len(set(names)) != len(names):
            raise InvalidInput("pollVote must name each option once")
        return names


class MessageRef(ChatSend):
    """A message of the chat: send-remove-reaction, read-message."""

    messageId: MessageId


class SendReaction(MessageRef):
    """POST send-reaction: an emoji on a message of the chat."""

    reaction: str = Field(min_length=1, max_length=16, pattern=NO_CONTROL)


class ForwardMessage(ChatSend):
    """POST forward-message: ``messageId`` of the chat ``messagePhone``, to ``phone``."""

    messageId: MessageId
    messagePhone: str = Field(min_length=1, max_length=64)


# pin-message durations, in seconds.
PIN_DURATIONS = {"24_hours": 86_400, "7_days": 604_800, "30_days": 2_592_000}


class PinMessage(ChatSend):
    """POST pin-message: pin a message of the chat for a while, or unpin it."""

    messageId: MessageId
    messageAction: Literal["pin", "unpin"]
    pinMessageDuration: Literal["24_hours", "7_days", "30_days"] | None = None

    def duration_s(self) -> int:
        """The pin's duration (0 for an unpin, which needs none)."""
        if self.messageAction == "unpin":
            return 0
        if self.pinMessageDuration is None:
            raise InvalidInput("pinMessageDuration is required to pin: 24_hours, 7_days or 30_days")
        return PIN_DURATIONS[self.pinMessageDuration]


class ListButton(BaseModel):
    model_config = _BODY
    id: ButtonId | None = None
    label: ButtonLabel


class ButtonList(BaseModel):
    model_config = _BODY
    buttons: list[ListButton] = Field(min_length=1, max_length=BUTTONS_MAX)
    image: str | None = None
    video: str | None = None


class SendButtonList(QueuedSend):
    """POST send-button-list: a text with up to three quick-reply buttons."""

    message: str = Field(min_length=1, max_length=MESSAGE_MAX)
    buttonList: ButtonList

    def message_data(self) -> dict[str, Any]:
        if self.buttonList.image is not None or self.buttonList.video is not None:
            raise InvalidInput("buttonList.image and buttonList.video are not supported")
        buttons = [
            {"type": "reply", "buttonId": b.id or str(n), "buttonText": b.label}
            for n, b in enumerate(self.buttonList.buttons, 1)
        ]
        return message_data.buttons(
            "interactiveButtonsReply", self.message, buttons, id_field="button ids"
        )


class ActionButton(BaseModel):
    model_config = _BODY
    id: ButtonId | None = None
    type: Literal["CALL", "URL", "REPLY"]
    phone: Digits | None = None
    url: Url | None = None
    label: ButtonLabel

    def button(self, n: int) -> dict[str, Any]:
        """The button as GREEN-API's interactive buttons hold it."""
        given = {"buttonId": self.id or str(n), "buttonText": self.label}
        if self.type == "REPLY":
            return {"type": "reply", **given}
        if self.type == "CALL":
            if self.phone is None:
                raise InvalidInput("a CALL button needs phone")
            return {"type": "call", **given, "phoneNumber": self.phone}
        if self.url is None:
            raise InvalidInput("a URL button needs url")
        return {"type": "url", **given, "url": self.url}


class SendButtonActions(QueuedSend):
    """POST send-button-actions: a text with up to three buttons that reply, call or open a
    URL (reply buttons or call/URL buttons: WhatsApp does not mix them in one message)."""

    message: str = Field(min_length=1, max_length=MESSAGE_MAX)
    buttonActions: list[ActionButton] = Field(min_length=1, max_length=BUTTONS_MAX)
    title: str | None = Field(None, max_length=MESSAGE_MAX)
    footer: str | None = Field(None, max_length=MESSAGE_MAX)

    def message_data(self) -> dict[str, Any]:
        replies = {b.type == "REPLY" for b in self.buttonActions}
        if len(replies) > 1:
            raise InvalidInput("REPLY buttons cannot be mixed with CALL or URL buttons")
        buttons = [b.button(n) for n, b in enumerate(self.buttonActions, 1)]
        kind = "interactiveButtonsReply" if replies == {True} else "interactiveButtons"
        parts = {"header": self.title or "", "footer": self.footer or ""}
        return message_data.buttons(kind, self.message, buttons, id_field="button ids", **parts)
