"""Z-API groups (spec §11), each a call into the instance's engine session (the group calls
GREEN-API's methods use, and engines/base.py GroupAdminSession).

Group ids are shown as ``<id>-group`` and taken as that, ``<id>@g.us`` or bare digits. A
refusal by the group (not an admin, not a member) is ``{"value": false}``, as Z-API answers;
bad input is an error in Z-API's format and changes nothing.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request

from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import groups_wire as wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.chats_wire import chat_item
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.lists import call, group_chat, shown, window
from fleetgate.api.zapi.media_values import URL_MAX, base64_pieces, base64_start, body_limit
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.chats import ChatOverview
from fleetgate.domain.files import StoredFile
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.services import chat_marks, engine_calls
from fleetgate.services.media import FetchFailed

router = APIRouter(prefix=PREFIX, tags=["Z-API groups"], route_class=ZapiRoute)

NO_GROUP = "group not found"
NO_LINK = "only the group's admins see its invitation link"
_INVITE_PREFIX = "https://chat.whatsapp.com/"


def _value(refused: Any) -> OrjsonResponse:
    return OrjsonResponse({"value": not refused})


@router.post("/create-group", openapi_extra=json_body(wire.CreateGroup))
async def create_group(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """A new group the account owns, with ``phones`` as members: ``{phone, invitationLink,
    phonesNotAdded}``."""
    body = await parsed(wire.CreateGroup, request, ctx)
    if instance.wid and instance.wid in body.phones:
        raise InvalidInput("phones must not hold the connected number")
    args = {"groupName": body.groupName, "chatIds": body.phones}
    made = await call(ctx, instance, engine_calls.CREATE_GROUP, args)
    return OrjsonResponse(
        {
            "phone": shown(made["chatId"]),
            "invitationLink": made["groupInviteLink"],
            "phonesNotAdded": [],
        }
    )


@router.post("/update-group-name", openapi_extra=json_body(wire.GroupNameBody))
async def update_group_name(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Rename the group."""
    body = await parsed(wire.GroupNameBody, request, ctx)
    args = {"groupId": body.groupId, "groupName": body.groupName}
    return _value(await call(ctx, instance, engine_calls.UPDATE_GROUP_NAME, args))


@router.post("/update-group-description", openapi_extra=json_body(wire.GroupDescription))
async def update_group_description(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Set the group's description (admins only)."""
    body = await parsed(wire.GroupDescription, request, ctx)
    args = {"groupId": body.groupId, "description": body.groupDescription}
    return _value(await call(ctx, instance, engine_calls.UPDATE_GROUP_DESCRIPTION, args))


@router.post("/update-group-photo", openapi_extra=json_body(wire.GroupPhoto))
async def update_group_photo(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Set the group's picture from ``groupPhoto``: an http(s) URL or a base64 data URI."""
    body = await parsed(wire.GroupPhoto, request, ctx, body_limit(ctx.settings))
    group_id = body.group()
    file, own = await _picture(ctx, instance, body.groupPhoto)
    try:
        if not file.mime_type.startswith("image/"):
            raise InvalidInput("groupPhoto must be an image")
        args = {
            "groupId": group_id,
            "file": file.as_json(),
        }
        refused = await call(ctx, instance, engine_calls.SET_GROUP_PICTURE, args)
    except BaseException:
        if not own:
            await ctx.media.forget(file)
        raise
    if refused and not own:
        await ctx.media.forget(file)
    return _value(refused)


async def _picture(ctx: Context, instance: InstanceView, value: str) -> tuple[StoredFile, bool]:
    """The picture's file, and whether it was in the store before this request (a link
    fleetgate gave): such a file is never forgotten here."""
    if value[:8].lower() == "https://" or value[:7].lower() == "http://":
        if len(value) > URL_MAX:
            raise InvalidInput(f"groupPhoto must be a URL of at most {URL_MAX} characters")
        key = ctx.media.own_key(value, instance.id_instance)
        if key is not None:
            found = await ctx.media.find(key)
            if found is None:
                raise InvalidInput("groupPhoto names a file that is no longer kept")
            return found[0], True
        try:
            return await ctx.media.fetch(
                value, id_instance=instance.id_instance, file_name="group.jpg"
            ), False
        except FetchFailed as exc:
            raise InvalidInput(str(exc).replace("urlFile", "groupPhoto")) from None
    start = base64_start(value, "groupPhoto", ctx.media.max_bytes)
    stored = await ctx.media.store(
        _decoded(value, start), id_instance=instance.id_instance, file_name="group.jpg"
    )
    return stored, False


async def _decoded(value: str, start: int) -> AsyncIterator[bytes]:
    for piece in base64_pieces(value, start):
        try:
            yield base64.b64decode(piece, validate=True)
        except (binascii.Error, ValueError):  # checked whole by base64_start already
            raise InvalidInput("groupPhoto must be base64 data") from None


async def _each(
    ctx: Context, instance: InstanceView, method: str, body: wire.Participants, **extra: Any
) -> OrjsonResponse:
    """One call per phone; true when every one was done."""
    refused = False
    for chat_id in body.phones:
        args = {"groupId": body.groupId, "participantChatId": chat_id, **extra}
        refused = bool(await call(ctx, instance, method, args)) or refused
    return _value(refused)


@router.post("/add-participant", openapi_extra=json_body(wire.Participants))
async def add_participant(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Add ``phones`` to the group (an admin, or any member while members may add)."""
    body = await parsed(wire.Participants, request, ctx)
    return await _each(ctx, instance, engine_calls.ADD_GROUP_PARTICIPANT, body)


@router.post("/remove-participant", openapi_extra=json_body(wire.Participants))
async def remove_participant(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Remove ``phones`` from the group (admins only; never its owner)."""
    body = await parsed(wire.Participants, request, ctx)
    return await _each(ctx, instance, engine_calls.REMOVE_GROUP_PARTICIPANT, body)


@router.post("/approve-participant", openapi_extra=json_body(wire.Participants))
async def approve_participant(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Let ``phones`` who asked to join in (admins only)."""
    body = await parsed(wire.Participants, request, ctx)
    return await _each(ctx, instance, engine_calls.DECIDE_GROUP_REQUEST, body, approve=True)


@router.post("/reject-participant", openapi_extra=json_body(wire.Participants))
async def reject_participant(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Turn down the requests of ``phones`` to join (admins only)."""
    body = await parsed(wire.Participants, request, ctx)
    return await _each(ctx, instance, engine_calls.DECIDE_GROUP_REQUEST, body, approve=False)


@router.post("/add-admin", openapi_extra=json_body(wire.Participants))
async def add_admin(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Make members ``phones`` admins."""
    body = await parsed(wire.Participants, request, ctx)
    return await _each(ctx, instance, engine_calls.SET_GROUP_ADMIN, body)


@router.post("/remove-admin", openapi_extra=json_body(wire.Participants))
async def remove_admin(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Take the admin rights of ``phones`` (never the owner's)."""
    body = await parsed(wire.Participants, request, ctx)
    return await _each(ctx, instance, engine_calls.REMOVE_GROUP_ADMIN, body)


@router.post("/leave-group", openapi_extra=json_body(wire.GroupOnly))
async def leave_group(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """The account leaves the group."""
    body = await parsed(wire.GroupOnly, request, ctx)
    return _value(await call(ctx, instance, engine_calls.LEAVE_GROUP, {"groupId": body.groupId}))


@router.post("/update-group-settings", openapi_extra=json_body(wire.GroupSettings))
async def update_group_settings(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Who may send, edit the group and add members, and whether joining wants approval;
    switches left out keep their value."""
    body = await parsed(wire.GroupSettings, request, ctx)
    group_id = body.group()
    body.check()
    refused = ""
    if body.adminOnlyMessage is not None or body.adminOnlySettings is not None:
        args: dict[str, Any] = {"groupId": group_id}
        if body.adminOnlySettings is not None:
            args["allowParticipantsEditGroupSettings"] = not body.adminOnlySettings
        if body.adminOnlyMessage is not None:
            args["allowParticipantsSendMessages"] = not body.adminOnlyMessage
        refused = await call(ctx, instance, engine_calls.UPDATE_GROUP_SETTINGS, args)
    if not refused and (
        body.requireAdminApproval is not None or body.adminOnlyAddMember is not None
    ):
        args = {
            "groupId": group_id,
            "membersAdd": None if body.adminOnlyAddMember is None else not body.adminOnlyAddMember,
            "approval": body.requireAdminApproval,
        }
        refused = await call(ctx, instance, engine_calls.UPDATE_GROUP_POLICY, args)
    return _value(refused)


async def _metadata(ctx: Context, instance: InstanceView, group: str) -> dict[str, Any]:
    group_id = group_chat(group)
    found = await call(ctx, instance, engine_calls.GROUP_METADATA, {"groupId": group_id})
    if found is None:
        raise NotFound(NO_GROUP)
    return dict(found)


@router.get("/group-metadata/{groupId}")
async def group_metadata(groupId: str, instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The group: subject, description, owner, participants, settings, and (admins only)
    its invitation link."""
    found = await _metadata(ctx, instance, groupId)
    return OrjsonResponse(wire.metadata(found, light=False))


@router.get("/light-group-metadata/{groupId}")
async def light_group_metadata(
    groupId: str, instance: InstanceDep, ctx: ContextDep
) -> OrjsonResponse:
    """group-metadata without the invitation link."""
    found = await _metadata(ctx, instance, groupId)
    return OrjsonResponse(wire.metadata(found, light=True))


async def _invitation_link(ctx: Context, instance: InstanceView, group: str) -> OrjsonResponse:
    found = await _metadata(ctx, instance, group)
    link = found.get("groupInviteLink")
    if not link:
        raise InvalidInput(NO_LINK)
    return OrjsonResponse({"phone": shown(str(found["groupId"])), "invitationLink": link})


@router.get("/group-invitation-link/{groupId}")
async def group_invitation_link(
    groupId: str, instance: InstanceDep, ctx: ContextDep
) -> OrjsonResponse:
    """The group's invitation link (admins only): ``{phone, invitationLink}``."""
    return await _invitation_link(ctx, instance, groupId)


@router.post("/group-invitation-link/{groupId}")
async def group_invitation_link_post(
    groupId: str, instance: InstanceDep, ctx: ContextDep
) -> OrjsonResponse:
    """The same as the GET form (clients use both)."""
    return await _invitation_link(ctx, instance, groupId)


@router.post("/redefine-invitation-link/{groupId}")
async def redefine_invitation_link(
    groupId: str, instance: InstanceDep, ctx: ContextDep
) -> OrjsonResponse:
    """A new invitation link (admins only); the old one stops working: ``{invitationLink}``."""
    group_id = group_chat(groupId)
    answer = await call(ctx, instance, engine_calls.RESET_GROUP_INVITE, {"groupId": group_id})
    if answer["reason"]:
        raise InvalidInput(str(answer["reason"]))
    return OrjsonResponse({"invitationLink": answer["link"]})


def _invite_url(url: str | None) -> str:
    if not url:
        raise InvalidInput("url is required")
    if not url.startswith(_INVITE_PREFIX) or len(url) > 200 or len(url) == len(_INVITE_PREFIX):
        raise InvalidInput(f"url must be an invitation link ({_INVITE_PREFIX}<code>)")
    return url


@router.get("/group-invitation-metadata")
async def group_invitation_metadata(
    instance: InstanceDep, ctx: ContextDep, url: str | None = None
) -> OrjsonResponse:
    """What an invitation link leads to, before joining."""
    link = _invite_url(url)
    found = await call(ctx, instance, engine_calls.GROUP_INVITE_INFO, {"link": link})
    if found is None:
        raise NotFound("invitation link not valid")
    return OrjsonResponse(wire.invitation_metadata(found))


@router.get("/accept-invite-group")
async def accept_invite_group(
    instance: InstanceDep, ctx: ContextDep, url: str | None = None
) -> OrjsonResponse:
    """Join a group by its invitation link: ``{"success": true}`` (also when the group wants
    an admin's approval first: the request is then waiting); false when refused."""
    link = _invite_url(url)
    answer = await call(ctx, instance, engine_calls.JOIN_GROUP, {"link": link})
    return OrjsonResponse({"success": not answer["reason"]})


@router.get("/groups")
async def list_groups(
    instance: InstanceDep, ctx: ContextDep, page: str | None = None, pageSize: str | None = None
) -> OrjsonResponse:
    """A page of the groups the account is in, as ``GET /chats`` shows chats: pinned first,
    then the most recently active. A bare array."""
    offset, limit = window(page, pageSize)
    joined = await call(ctx, instance, engine_calls.JOINED_GROUPS, {})
    ids = [str(g["groupId"]) for g in joined]
    async with ctx.db.reading() as session:
        stats = {
            c.chat_id: c
            for c in await chat_marks.chat_list(
                session=session,
                id_instance=instance.id_instance,
                offset=0,
                limit=max(1, len(ids)),
                chat_ids=ids,
            )
        }
    now = now_ms()
    items = []
    for group in joined:
        group_id = str(group["groupId"])
        chat = stats.get(group_id) or ChatOverview(
            chat_id=group_id,
            name="",
            last_ms=int(group.get("creationMs", 0)),
            unread=0,
            archived=False,
            pinned=False,
            mute_until_ms=None,
            unread_mark=False,
            ephemeral_expiration=0,
        )
        item = chat_item(chat, now, announce=not group.get("allowParticipantsSendMessages", True))
        item["name"] = group["subject"]
        items.append((chat.pinned, chat.last_ms, item))
    items.sort(key=lambda t: (not t[0], -t[1], t[2]["phone"]))
    return OrjsonResponse([item for _, _, item in items[offset : offset + limit]])
