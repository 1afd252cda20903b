"""The sandbox network's groups over HTTP: a virtual phone creates, reads and changes groups
as a member, the way an instance does through the GREEN-API group methods.

Authenticated as the other /sandbox routes (a partner token as a Bearer). A phone writes to a
group through ``POST /sandbox/phones/{phone}/messages`` with the group's chatId. Errors are
``{"error": "<text>"}``.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Request
from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from starlette.responses import Response

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.bodies import MESSAGE_MAX, NO_CONTROL, json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.responses import OrjsonResponse
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_GROUP, CHAT_PHONE, is_phone
from fleetgate.services import sandbox_groups

router = APIRouter(
    prefix="/sandbox/phones/{phone}/groups", tags=["sandbox"], route_class=PlainRoute
)

_GROUP_ID = re.compile(rf"{CHAT_GROUP}@g\.us")
_PHONE_CHAT = re.compile(rf"{CHAT_PHONE}@c\.us")


def _member(value: str) -> str:
    if not _PHONE_CHAT.fullmatch(value):
        raise InvalidInput("participants must be <phone digits>@c.us")
    return value.removesuffix("@c.us")


def _members(value: list[str]) -> list[str]:
    return [_member(v) for v in value]


GroupName = Annotated[str, Field(min_length=1, max_length=100, pattern=NO_CONTROL)]


class NewGroupBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    groupName: GroupName
    chatIds: Annotated[list[str], Field(max_length=1024), AfterValidator(_members)]


class GroupActionBody(BaseModel):
    """What an action needs: ``groupName`` (name), ``participantChatId`` (add, remove,
    promote, demote), the two ``allowParticipants…`` flags (settings); leave needs nothing."""

    model_config = ConfigDict(extra="forbid", strict=True)
    groupName: GroupName | None = None
    participantChatId: Annotated[str, AfterValidator(_member)] | None = None
    allowParticipantsEditGroupSettings: bool | None = None
    allowParticipantsSendMessages: bool | None = None
    inviteLink: str | None = Field(None, min_length=1, max_length=200)


def _phone(phone: str) -> str:
    if not is_phone(phone):
        raise InvalidInput("phone must be 7 to 15 digits with the country code")
    return phone


def _group(group_id: str) -> str:
    if not _GROUP_ID.fullmatch(group_id):
        raise InvalidInput("groupId must be <group id>@g.us")
    return group_id


@router.post("", openapi_extra=json_body(NewGroupBody))
async def create_group(
    phone: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone creates a group it owns with these members (``{groupName, chatIds}``)."""
    body = parse_body(NewGroupBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.transaction() as session:
        made = await sandbox_groups.create(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            name=body.groupName,
            members=body.chatIds,
        )
    return OrjsonResponse(made)


@router.get("")
async def list_groups(phone: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """The groups the phone is a member of, each as getGroupData shows it."""
    async with ctx.db.transaction() as session:
        found = await sandbox_groups.list_groups(
            session=session, partner=partner, phone=_phone(phone)
        )
    return OrjsonResponse({"groups": found})


@router.get("/{groupId}")
async def group_data(phone: str, groupId: str, partner: PartnerDep, ctx: ContextDep) -> Response:
    """One group as the phone sees it (getGroupData's answer)."""
    async with ctx.db.transaction() as session:
        found = await sandbox_groups.data(
            session=session, partner=partner, phone=_phone(phone), group_id=_group(groupId)
        )
    return OrjsonResponse(found)


class InviteBody(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    chatId: Annotated[str, AfterValidator(_member)]
    caption: str = Field("", max_length=MESSAGE_MAX)


@router.post("/{groupId}/invite", openapi_extra=json_body(InviteBody))
async def send_invite(
    phone: str, groupId: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone (an admin of the group) sends a number a private invite to the group: a
    ``groupInviteMessage`` in their chat (``{chatId, caption?}``); ``{"idMessage"}``."""
    body = parse_body(InviteBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.transaction() as session:
        id_message = await sandbox_groups.send_invite(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            group_id=_group(groupId),
            to_phone=body.chatId,
            caption=body.caption,
        )
    return OrjsonResponse({"idMessage": id_message})


@router.post("/{groupId}/{action}", openapi_extra=json_body(GroupActionBody))
async def group_action(
    phone: str, groupId: str, action: str, request: Request, partner: PartnerDep, ctx: ContextDep
) -> Response:
    """The phone renames the group (``name``), adds, removes, promotes or demotes a member
    (``add``, ``remove``, ``promote``, ``demote``), leaves it (``leave``), changes who may
    edit and send (``settings``) or joins it by its ``inviteLink`` (``join``: a group that
    wants approval keeps a request); ``{"done": bool, "reason": "…"}``."""
    body = parse_body(GroupActionBody, await read_json(request, ctx.settings.http.max_body_bytes))
    if action == "name" and body.groupName is None:
        raise InvalidInput("groupName is required")
    if action in ("add", "remove", "promote", "demote") and body.participantChatId is None:
        raise InvalidInput("participantChatId is required")
    if action == "join" and body.inviteLink is None:
        raise InvalidInput("inviteLink is required")
    async with ctx.db.transaction() as session:
        refused = await sandbox_groups.act(
            session=session,
            signals=ctx.signals,
            partner=partner,
            phone=_phone(phone),
            group_id=_group(groupId),
            action=action,
            name=body.groupName or "",
            participant=body.participantChatId or "",
            members_edit=body.allowParticipantsEditGroupSettings,
            members_send=body.allowParticipantsSendMessages,
            invite_link=body.inviteLink or "",
        )
    return OrjsonResponse({"done": not refused, "reason": refused})
