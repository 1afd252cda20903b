"""GREEN-API group request bodies (spec §8), validated."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fleetgate.api.bodies import NO_CONTROL
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_GROUP, CHAT_PHONE

_STRICT = ConfigDict(extra="forbid", strict=True)
_GROUP_ID = re.compile(rf"{CHAT_GROUP}@g\.us")
_PHONE_CHAT = re.compile(rf"{CHAT_PHONE}@c\.us")
GROUP_NAME_MAX = 100


def check_group_id(value: str) -> str:
    if not _GROUP_ID.fullmatch(value):
        raise InvalidInput("groupId must be <group id>@g.us")
    return value


def check_participant(value: str) -> str:
    if not _PHONE_CHAT.fullmatch(value):
        raise InvalidInput("participantChatId must be <phone digits>@c.us")
    return value


def check_members(value: list[str]) -> list[str]:
    for chat_id in value:
        if not _PHONE_CHAT.fullmatch(chat_id):
            raise InvalidInput("chatIds must be <phone digits>@c.us, no groups")
    return value


GroupId = Annotated[str, AfterValidator(check_group_id)]
GroupName = Annotated[str, Field(min_length=1, max_length=GROUP_NAME_MAX, pattern=NO_CONTROL)]


class CreateGroupBody(BaseModel):
    model_config = _STRICT
    groupName: GroupName
    chatIds: Annotated[list[str], Field(max_length=1024), AfterValidator(check_members)]


class GroupBody(BaseModel):
    model_config = _STRICT
    groupId: GroupId


class GroupNameBody(BaseModel):
    model_config = _STRICT
    groupId: GroupId
    groupName: GroupName


class ParticipantBody(BaseModel):
    model_config = _STRICT
    groupId: GroupId
    participantChatId: Annotated[str, AfterValidator(check_participant)]


class GroupSettingsBody(BaseModel):
    model_config = _STRICT
    groupId: GroupId
    allowParticipantsEditGroupSettings: bool | None = None
    allowParticipantsSendMessages: bool | None = None


class GroupPictureFields(BaseModel):
    """The text fields of setGroupPicture's form (its ``file`` part is read apart)."""

    model_config = ConfigDict(extra="forbid")
    groupId: GroupId
