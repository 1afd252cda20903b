"""Z-API bodies of send-option-list and of the group event sends (spec §8), and the
messageData each becomes.

Unknown keys are ignored and known ones type-checked, as for the other sends. The choices
made where Z-API's docs leave it open are in docs/z-api.md.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api import message_data
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL
from fleetgate.api.zapi.actions_wire import ChatSend, MessageId, QueuedSend
from fleetgate.errors import InvalidInput

_BODY = ConfigDict(extra="ignore", strict=True)
Line = Annotated[str, Field(min_length=1, max_length=255, pattern=NO_CONTROL)]
OPTIONS_MAX = 10
# Z-API's event time zones: "UTC", "UTC-3", "UTC+5:30".
_ZONE = re.compile(r"UTC(?:([+-])(\d{1,2})(?::(\d{2}))?)?")


class ListOption(BaseModel):
    model_config = _BODY
    id: Annotated[str, Field(min_length=1, max_length=200, pattern=NO_CONTROL)] | None = None
    title: Line
    description: str = Field("", max_length=255, pattern=NO_CONTROL)


class OptionList(BaseModel):
    model_config = _BODY
    title: Line
    buttonLabel: Annotated[str, Field(min_length=1, max_length=20, pattern=NO_CONTROL)]
    options: list[ListOption] = Field(min_length=1, max_length=OPTIONS_MAX)


class SendOptionList(QueuedSend):
    """POST send-option-list: a text with a button opening a titled list of options."""

    message: str = Field(min_length=1, max_length=MESSAGE_MAX)
    optionList: OptionList

    def message_data(self) -> dict[str, Any]:
        listed = self.optionList
        rows = [
            {"title": o.title, "rowId": o.id or str(n), "description": o.description}
            for n, o in enumerate(listed.options, 1)
        ]
        return message_data.list_menu(self.message, listed.title, listed.buttonLabel, rows)


def _zone(name: str) -> timezone:
    """A Z-API time zone ("UTC", "UTC-3", "UTC+5:30") as a fixed offset."""
    found = _ZONE.fullmatch(name)
    if found is None:
        raise InvalidInput("event.timeZone must be UTC or UTC±<hours>[:<minutes>], e.g. UTC-3")
    sign, hours, minutes = found.groups()
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0))
    if offset > timedelta(hours=14) or (minutes is not None and int(minutes) >= 60):
        raise InvalidInput("event.timeZone is out of range (UTC-14 to UTC+14)")
    return timezone(-offset if sign == "-" else offset)


class EventLocation(BaseModel):
    model_config = _BODY
    name: Line


class Event(BaseModel):
    """Z-API's ``event`` object: what a group event says."""

    model_config = _BODY
    name: Line
    dateTime: str = Field(min_length=1, max_length=64)
    canceled: bool
    description: str | None = Field(None, max_length=2048)
    timeZone: str | None = Field(None, max_length=16)
    location: EventLocation | None = None
    callLinkType: Literal["voice", "video"] | None = None

    def start_s(self) -> int:
        """When the event starts, in epoch seconds: ``dateTime`` with its own offset (a
        trailing Z is UTC), else read in ``timeZone``, else in UTC."""
        try:
            when = datetime.fromisoformat(self.dateTime)
        except ValueError:
            raise InvalidInput("event.dateTime must be an ISO 8601 date and time") from None
        zone = _zone(self.timeZone) if self.timeZone is not None else UTC
        if when.tzinfo is None:
            when = when.replace(tzinfo=zone)
        return int(when.timestamp())

    def message_data(self, edits: str | None = None) -> dict[str, Any]:
        """The event's messageData (the new version of ``edits``, if given)."""
        return message_data.event(
            self.name,
            self.start_s(),
            description=self.description or "",
            canceled=self.canceled,
            location=self.location.name if self.location is not None else None,
            call_link_type=self.callLinkType,
            edits=edits,
        )


class SendEvent(ChatSend):
    """POST send-event: an event in a group."""

    event: Event


class SendEditEvent(SendEvent):
    """POST send-edit-event: the new version of an event the instance sent to the group."""

    eventMessageId: MessageId


class SendEventResponse(ChatSend):
    """POST send-event-response: the instance goes to an event of the group, or not."""

    eventMessageId: MessageId
    eventResponse: Literal["GOING", "NOT_GOING"]
