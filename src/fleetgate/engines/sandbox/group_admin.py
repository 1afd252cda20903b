"""What the Z-API group routes need of a sandbox group beyond GREEN-API's methods: its
description, who may add members and whether joining wants approval, the invite link (reset,
looked up, joined by) and the join requests admins approve or reject.

As in groups.py, a change answers "" when done or why it was refused.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.groups import GroupNotification as N
from fleetgate.engines.sandbox import groups
from fleetgate.engines.sandbox.group_events import tell
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import SandboxGroupRequestRow, SandboxGroupRow

NO_INVITE = "invite link not valid"
NO_REQUEST = "no request to join from this number"
PENDING = "pending"
JOINED = "joined"


async def describe(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str, text: str
) -> str:
    """Set the group's description (admins only, as Z-API documents)."""
    group, refused = await groups.admin_check(session, group_id, actor)
    if group is None:
        return refused
    group.description, group.description_ms = text, now_ms()
    await session.flush()
    await tell(session, signals, group, N.CHANGE_DESCRIPTION, actor=actor, parameters=[text])
    return ""


async def set_policy(
    session: AsyncSession,
    signals: Signals,
    *,
    actor: str,
    group_id: str,
    members_add: bool | None,
    approval: bool | None,
) -> str:
    """Whether members who are not admins may add others, and whether joining by link waits
    for an admin's approval."""
    group, refused = await groups.admin_check(session, group_id, actor)
    if group is None:
        return refused
    changes: list[tuple[N, str]] = []
    if members_add is not None and members_add != group.members_add:
        group.members_add = members_add
        changes.append((N.MEMBER_ADD_MODE, "all_member_add" if members_add else "admin_add"))
    if approval is not None and approval != group.require_approval:
        group.require_approval = approval
        changes.append((N.JOIN_APPROVAL_MODE, "on" if approval else "off"))
    await session.flush()
    for kind, value in changes:
        await tell(session, signals, group, kind, actor=actor, parameters=[value])
    return ""


async def reset_invite(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str
) -> tuple[str, str]:
    """(the new invite link, "") or ("", why not): the old link stops working."""
    group, refused = await groups.admin_check(session, group_id, actor)
    if group is None:
        return "", refused
    group.invite_code = groups.new_invite_code()
    await session.flush()
    admins = [r.phone for r in await groups.members(session, group_id) if r.admin]
    await tell(session, signals, group, N.CHANGE_INVITE_LINK, actor=actor, only=admins)
    return groups.invite_link(group), ""


async def by_invite(session: AsyncSession, link: str) -> SandboxGroupRow | None:
    """The group an invite link (or its bare code) leads to, while that link is current."""
    code = link.removeprefix(groups.INVITE_PREFIX).strip("/")
    if not code or "/" in code:
        return None
    stmt = select(SandboxGroupRow).where(SandboxGroupRow.invite_code == code)
    return await session.scalar(stmt)


async def invite_info(session: AsyncSession, link: str) -> dict[str, Any] | None:
    """What a link shows before joining: the group as its metadata, no invite link; None for
    a link that leads nowhere."""
    group = await by_invite(session, link)
    if group is None:
        return None
    found = await metadata(session, group.group_id, viewer="")
    return None if found is None else found | {"groupInviteLink": groups.invite_link(group)}


async def join(
    session: AsyncSession, signals: Signals, *, phone: str, link: str
) -> tuple[str, str, str]:
    """``phone`` follows an invite link: (group id, JOINED or PENDING, "") or ("", "", why
    not). A group that wants approval keeps a request and tells its admins."""
    group = await by_invite(session, link)
    if group is None:
        return "", "", NO_INVITE
    if await groups.member(session, group.group_id, phone) is not None:
        return "", "", groups.ALREADY_MEMBER
    if group.require_approval:
        if await session.get(SandboxGroupRequestRow, (group.group_id, phone)) is None:
            session.add(
                SandboxGroupRequestRow(group_id=group.group_id, phone=phone, requested_ms=now_ms())
            )
            await session.flush()
            admins = [r.phone for r in await groups.members(session, group.group_id) if r.admin]
            await tell(
                session,
                signals,
                group,
                N.APPROVAL_REQUEST,
                actor=phone,
                parameters=[phone],
                only=admins,
                request_method="invite_link",
            )
        return group.group_id, PENDING, ""
    await groups.enter(session, group.group_id, phone)
    await tell(session, signals, group, N.PARTICIPANT_INVITE, actor=phone, parameters=[phone])
    return group.group_id, JOINED, ""


async def decide(
    session: AsyncSession,
    signals: Signals,
    *,
    actor: str,
    group_id: str,
    phone: str,
    approve: bool,
) -> str:
    """An admin approves or rejects ``phone``'s request to join."""
    group, refused = await groups.admin_check(session, group_id, actor)
    if group is None:
        return refused
    request = await session.get(SandboxGroupRequestRow, (group_id, phone))
    if request is None:
        return NO_REQUEST
    await session.delete(request)
    await session.flush()
    if approve:
        await groups.enter(session, group_id, phone)
        await tell(session, signals, group, N.PARTICIPANT_ADD, actor=actor, parameters=[phone])
    else:
        admins = [r.phone for r in await groups.members(session, group_id) if r.admin]
        await tell(
            session,
            signals,
            group,
            N.REVOKED_REQUESTS,
            actor=actor,
            parameters=[phone],
            only=admins,
            also=[phone],
        )
    return ""


async def requests(session: AsyncSession, group_id: str) -> list[str]:
    """The phones waiting for approval, oldest request first."""
    stmt = (
        select(SandboxGroupRequestRow.phone)
        .where(SandboxGroupRequestRow.group_id == group_id)
        .order_by(SandboxGroupRequestRow.requested_ms, SandboxGroupRequestRow.phone)
    )
    return list(await session.scalars(stmt))


async def metadata(session: AsyncSession, group_id: str, *, viewer: str) -> dict[str, Any] | None:
    """getGroupData's answer plus what Z-API's group-metadata shows besides."""
    found = await groups.data(session, group_id, viewer=viewer)
    group = await groups.get(session, group_id)
    if found is None or group is None:
        return None
    return found | {
        "description": group.description,
        "descriptionTime": group.description_ms // 1000,
        "allowParticipantsAddMembers": group.members_add,
        "requireAdminApproval": group.require_approval,
        "creationMs": group.created_ms,
        "subjectTimeMs": group.subject_ms,
    }
