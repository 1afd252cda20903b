"""Z-API group bodies and answers (spec §11): camelCase names live only here."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from fleetgate.api.bodies import NO_CONTROL
from fleetgate.api.zapi.lists import group_chat, phone_chat, shown
from fleetgate.errors import InvalidInput

_BODY = ConfigDict(extra="ignore", strict=True)
GROUP_NAME_MAX = 100
DESCRIPTION_MAX = 2048
PHONES_MAX = 1024
_ID_MAX = 64


def _phones(value: list[str]) -> list[str]:
    return [phone_chat(p) for p in value]


GroupName = Annotated[str, Field(min_length=1, max_length=GROUP_NAME_MAX, pattern=NO_CONTROL)]
GroupId = Annotated[str, Field(min_length=1, max_length=_ID_MAX), AfterValidator(group_chat)]
Phones = Annotated[list[str], Field(min_length=1, max_length=PHONES_MAX), AfterValidator(_phones)]


class CreateGroup(BaseModel):
    """POST create-group (``phones``: the members, not the connected number)."""

    model_config = _BODY
    autoInvite: bool | None = None
    groupName: GroupName
    phones: Phones


class GroupOnly(BaseModel):
    model_config = _BODY
    groupId: GroupId


class GroupNameBody(BaseModel):
    model_config = _BODY
    groupId: GroupId
    groupName: GroupName


class GroupDescription(BaseModel):
    model_config = _BODY
    groupId: GroupId
    groupDescription: Annotated[str, Field(max_length=DESCRIPTION_MAX)]


class GroupPhoto(BaseModel):
    """POST update-group-photo; the json-example spells ``groupID``: both are taken."""

    model_config = _BODY
    groupId: GroupId | None = None
    groupID: GroupId | None = None
    groupPhoto: Annotated[str, Field(min_length=1)]

    def group(self) -> str:
        found = self.groupId or self.groupID
        if found is None:
            raise InvalidInput("groupId is required")
        return found


class Participants(BaseModel):
    """add-participant, remove-participant, approve/reject-participant, add/remove-admin."""

    model_config = _BODY
    autoInvite: bool | None = None
    groupId: GroupId
    phones: Phones


class GroupSettings(BaseModel):
    """POST update-group-settings: the group as ``phone`` (documented) or ``groupId`` (the
    json-example), and any of the four switches (partial bodies change only those given)."""

    model_config = _BODY
    phone: GroupId | None = None
    groupId: GroupId | None = None
    adminOnlyMessage: bool | None = None
    adminOnlySettings: bool | None = None
    requireAdminApproval: bool | None = None
    adminOnlyAddMember: bool | None = None

    def group(self) -> str:
        found = self.phone or self.groupId
        if found is None:
            raise InvalidInput("phone (the group id) is required")
        return found

    def check(self) -> None:
        switches = (
            self.adminOnlyMessage,
            self.adminOnlySettings,
            self.requireAdminApproval,
            self.adminOnlyAddMember,
        )
        if all(s is None for s in switches):
            raise InvalidInput(
                "give at least one of adminOnlyMessage, adminOnlySettings, "
                "requireAdminApproval, adminOnlyAddMember"
            )


def _digits(chat_id: str) -> str:
    return chat_id.removesuffix("@c.us")


def metadata(found: dict[str, Any], *, light: bool) -> dict[str, Any]:
    """group-metadata (or, ``light``, light-group-metadata) from the engine's group_metadata.

    The invite link shows only to admins (``invitationLinkError`` "not-authorized" else);
    the light form skips it, as Z-API's does.
    """
    link = found.get("groupInviteLink") or None
    return {
        "phone": shown(str(found["groupId"])),
        "description": found.get("description", ""),
        "owner": _digits(str(found["owner"])),
        "subject": found["subject"],
        "creation": found.get("creationMs", int(found.get("creation", 0)) * 1000),
        "invitationLink": None if light else link,
        "invitationLinkError": None if light or link else "not-authorized",
        "communityId": None,
        "adminOnlyMessage": not found.get("allowParticipantsSendMessages", True),
        "adminOnlySettings": not found.get("allowParticipantsEditGroupSettings", True),
        "requireAdminApproval": bool(found.get("requireAdminApproval", False)),
        "adminOnlyAddMember": not found.get("allowParticipantsAddMembers", False),
        "isGroupAnnouncement": False,
        "participants": [
            {
                "phone": _digits(str(p["id"])),
                "isAdmin": bool(p["isAdmin"]),
                "isSuperAdmin": bool(p["isSuperAdmin"]),
            }
            for p in found.get("participants", [])
        ],
        "subjectTime": found.get("subjectTimeMs", int(found.get("subjectTime", 0)) * 1000),
        "subjectOwner": _digits(str(found.get("subjectOwner", ""))),
    }


def invitation_metadata(found: dict[str, Any]) -> dict[str, Any]:
    """group-invitation-metadata: what an invite link shows before joining."""
    shown_data = metadata(found, light=True)
    return {
        "phone": shown_data["phone"],
        "owner": shown_data["owner"],
        "subject": shown_data["subject"],
        "description": shown_data["description"],
        "creation": shown_data["creation"],
        "invitationLink": found.get("groupInviteLink", ""),
        "contactsCount": 0,
        "participantsCount": len(shown_data["participants"]),
        "participants": shown_data["participants"],
        "subjectTime": shown_data["subjectTime"],
        "subjectOwner": shown_data["subjectOwner"],
    }
