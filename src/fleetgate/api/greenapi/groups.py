"""GREEN-API group methods (spec §8): each one a call into the instance's engine session.

A refusal (not an admin, not a member, no such group) is a 200 answer with ``false``, as
GREEN-API gives it; an engine without groups answers 400 NOT_SUPPORTED.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.groups_wire import (
    CreateGroupBody,
    GroupBody,
    GroupNameBody,
    GroupPictureFields,
    GroupSettingsBody,
    ParticipantBody,
)
from fleetgate.api.greenapi.journals import NOT_AUTHORIZED_TEXT
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.uploads import store_form
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView, State
from fleetgate.errors import InvalidInput
from fleetgate.services import engine_calls

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API groups"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = (
    "createGroup",
    "updateGroupName",
    "getGroupData",
    "addGroupParticipant",
    "removeGroupParticipant",
    "setGroupAdmin",
    "removeAdmin",
    "setGroupPicture",
    "leaveGroup",
    "updateGroupSettings",
)
NO_GROUP_TEXT = "group not found"
PICTURE_TYPES = ("image/jpeg",)


async def _call(ctx: Context, instance: InstanceView, method: str, args: dict[str, Any]) -> Any:
    """The instance's session's answer to a group call; only an authorized account has groups."""
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_AUTHORIZED_TEXT)
    return await engine_calls.call_engine(
        db=ctx.db, signals=ctx.signals, id_instance=instance.id_instance, method=method, args=args
    )


async def _body(request: Request, ctx: Context) -> Any:
    return await read_json(request, ctx.settings.http.max_body_bytes)


@router.post("/createGroup/{apiTokenInstance}", openapi_extra=json_body(CreateGroupBody))
async def create_group(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """A new group with the account as owner and admin, and these members."""
    body = parse_body(CreateGroupBody, await _body(request, ctx))
    made = await _call(ctx, instance, engine_calls.CREATE_GROUP, body.model_dump())
    return OrjsonResponse(
        {"created": True, "chatId": made["chatId"], "groupInviteLink": made["groupInviteLink"]}
    )


@router.post("/updateGroupName/{apiTokenInstance}", openapi_extra=json_body(GroupNameBody))
async def update_group_name(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Rename a group (an admin, or any member while the settings let members edit)."""
    body = parse_body(GroupNameBody, await _body(request, ctx))
    refused = await _call(ctx, instance, engine_calls.UPDATE_GROUP_NAME, body.model_dump())
    return OrjsonResponse({"updateGroupName": not refused})


@router.post("/getGroupData/{apiTokenInstance}", openapi_extra=json_body(GroupBody))
async def get_group_data(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """A group's subject, owner, participants and invite link (admins only see the link)."""
    body = parse_body(GroupBody, await _body(request, ctx))
    data = await _call(ctx, instance, engine_calls.GROUP_DATA, body.model_dump())
    if data is None:
        raise InvalidInput(NO_GROUP_TEXT)
    return OrjsonResponse(data)


async def _participant_call(
    request: Request, ctx: Context, instance: InstanceView, method: str, key: str
) -> OrjsonResponse:
    body = parse_body(ParticipantBody, await _body(request, ctx))
    refused = await _call(ctx, instance, method, body.model_dump())
    return OrjsonResponse({key: not refused})


@router.post("/addGroupParticipant/{apiTokenInstance}", openapi_extra=json_body(ParticipantBody))
async def add_group_participant(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Add a member (false unless the account is an admin and the number not a member yet)."""
    return await _participant_call(
        request, ctx, instance, engine_calls.ADD_GROUP_PARTICIPANT, "addParticipant"
    )


@router.post("/removeGroupParticipant/{apiTokenInstance}", openapi_extra=json_body(ParticipantBody))
async def remove_group_participant(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Remove a member (false unless the account is an admin and the number a member)."""
    return await _participant_call(
        request, ctx, instance, engine_calls.REMOVE_GROUP_PARTICIPANT, "removeParticipant"
    )


@router.post("/setGroupAdmin/{apiTokenInstance}", openapi_extra=json_body(ParticipantBody))
async def set_group_admin(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Make a member an admin."""
    return await _participant_call(
        request, ctx, instance, engine_calls.SET_GROUP_ADMIN, "setGroupAdmin"
    )


@router.post("/removeAdmin/{apiTokenInstance}", openapi_extra=json_body(ParticipantBody))
async def remove_admin(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Take a member's admin rights (never the owner's)."""
    return await _participant_call(
        request, ctx, instance, engine_calls.REMOVE_GROUP_ADMIN, "removeAdmin"
    )


@router.post("/leaveGroup/{apiTokenInstance}", openapi_extra=json_body(GroupBody))
async def leave_group(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """The account leaves the group; its messages to it then get the notInGroup status."""
    body = parse_body(GroupBody, await _body(request, ctx))
    refused = await _call(ctx, instance, engine_calls.LEAVE_GROUP, body.model_dump())
    return OrjsonResponse({"leaveGroup": not refused})


@router.post("/updateGroupSettings/{apiTokenInstance}", openapi_extra=json_body(GroupSettingsBody))
async def update_group_settings(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Whether members who are not admins may edit the group and send to it (admins only)."""
    body = parse_body(GroupSettingsBody, await _body(request, ctx))
    refused = await _call(ctx, instance, engine_calls.UPDATE_GROUP_SETTINGS, body.model_dump())
    if refused:
        return OrjsonResponse({"updateGroupSettings": False, "reason": refused})
    return OrjsonResponse({"updateGroupSettings": True})


@router.post(
    "/setGroupPicture/{apiTokenInstance}",
    openapi_extra={
        "requestBody": {
            "content": {
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "groupId": {"type": "string"},
                            "file": {"type": "string", "format": "binary"},
                        },
                        "required": ["groupId", "file"],
                    }
                }
            }
        }
    },
)
async def set_group_picture(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """A JPEG as the group's picture: a form with ``groupId`` and ``file``."""
    form = await store_form(request, ctx.media, id_instance=instance.id_instance)
    file = form.file
    try:
        fields = parse_body(GroupPictureFields, form.fields)
        if file is None or file.size == 0:
            raise InvalidInput("File is empty")
        if file.mime_type not in PICTURE_TYPES:
            raise InvalidInput("Unsupported media type")
        args = {
            "groupId": fields.groupId,
            "file": file.as_json(),
        }
        refused = await _call(ctx, instance, engine_calls.SET_GROUP_PICTURE, args)
    except BaseException:
        if file is not None:
            await ctx.media.forget(file)
        raise
    if refused:
        await ctx.media.forget(file)
        return OrjsonResponse({"setGroupPicture": False, "urlAvatar": None, "reason": refused})
    url = ctx.media.link(instance.id_instance, file.key, file.file_name)
    return OrjsonResponse({"setGroupPicture": True, "urlAvatar": url, "reason": ""})
