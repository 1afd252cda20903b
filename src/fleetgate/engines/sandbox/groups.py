"""Group chats of the sandbox network: members, admins, settings, and messages to them.

A member is a phone: an instance's linked phone or a virtual one, alike. The owner is a super
admin nobody can remove or demote. Each change answers "" when done or a reason when refused
(GREEN-API answers refusals with ``false``, not an error). A message to a group becomes one
network event per other member, each naming the group (``groupId``), so every member's session
or inbox shows it in the group's chat with its author as sender.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.groups import GroupNotification as N
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.sandbox import network
from fleetgate.engines.sandbox.group_events import tell
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import SandboxEventRow, SandboxGroupMemberRow, SandboxGroupRow

INVITE_PREFIX = "https://chat.whatsapp.com/"
NO_GROUP = "group not found"
NOT_MEMBER = "not a member of the group"
NOT_ADMIN = "NOT_ENOUGH_RIGHTS"
ALREADY_MEMBER = "already a member of the group"
OWNER = "the group's owner cannot be removed or demoted"
ADMINS_ONLY = "only admins may send messages to this group"
_INVITE_ALPHABET = string.ascii_letters + string.digits


def chat(phone: str) -> str:
    return f"{phone}@c.us"


def new_group_id() -> str:
    """A group id in WhatsApp's current form (``120363…@g.us``, 18 digits)."""
    return "120363" + "".join(secrets.choice(string.digits) for _ in range(12)) + "@g.us"


async def create(
    session: AsyncSession, signals: Signals, *, owner: str, subject: str, members: list[str]
) -> SandboxGroupRow:
    """A new group owned (and administered) by ``owner``, with these phones as members.

    A number first named here goes to the owner's partner, as one first written to does.
    """
    now = now_ms()
    group = SandboxGroupRow(
        group_id=new_group_id(),
        subject=subject,
        owner=owner,
        created_ms=now,
        subject_ms=now,
        subject_owner=owner,
        invite_code=new_invite_code(),
        members_edit=True,
        members_send=True,
        members_add=False,
        require_approval=False,
        description="",
        description_ms=0,
    )
    session.add(group)
    session.add(
        SandboxGroupMemberRow(group_id=group.group_id, phone=owner, admin=True, joined_ms=now)
    )
    added = [phone for phone in dict.fromkeys(members) if phone != owner]
    for phone in added:
        await _join(session, group.group_id, owner, phone)
    await session.flush()
    await tell(session, signals, group, N.CREATE, actor=owner, parameters=added)
    return group


def new_invite_code() -> str:
    return "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(22))


async def _join(session: AsyncSession, group_id: str, by: str, phone: str) -> None:
    await network.register_phone(session, phone)
    by_owner = await network.owner_of(session, by)
    if by_owner is not None:
        await network.hold_phone(session, phone, by_owner)
    session.add(
        SandboxGroupMemberRow(group_id=group_id, phone=phone, admin=False, joined_ms=now_ms())
    )


async def enter(session: AsyncSession, group_id: str, phone: str) -> None:
    """``phone`` becomes a member by itself (an invite link, an approved request)."""
    await network.register_phone(session, phone)
    session.add(
        SandboxGroupMemberRow(group_id=group_id, phone=phone, admin=False, joined_ms=now_ms())
    )
    await session.flush()


async def get(session: AsyncSession, group_id: str) -> SandboxGroupRow | None:
    return await session.get(SandboxGroupRow, group_id)


async def member(session: AsyncSession, group_id: str, phone: str) -> SandboxGroupMemberRow | None:
    return await session.get(SandboxGroupMemberRow, (group_id, phone))


async def members(session: AsyncSession, group_id: str) -> list[SandboxGroupMemberRow]:
    stmt = (
        select(SandboxGroupMemberRow)
        .where(SandboxGroupMemberRow.group_id == group_id)
        .order_by(SandboxGroupMemberRow.joined_ms, SandboxGroupMemberRow.phone)
    )
    return list(await session.scalars(stmt))


async def groups_of(session: AsyncSession, phone: str) -> list[str]:
    """The ids of the groups ``phone`` is a member of."""
    stmt = select(SandboxGroupMemberRow.group_id).where(SandboxGroupMemberRow.phone == phone)
    return sorted(await session.scalars(stmt))


async def data(session: AsyncSession, group_id: str, *, viewer: str) -> dict[str, Any] | None:
    """getGroupData's answer as ``viewer`` sees it (the invite link only for admins)."""
    group = await get(session, group_id)
    if group is None:
        return None
    rows = await members(session, group_id)
    admin = any(r.phone == viewer and r.admin for r in rows)
    return {
        "groupId": group.group_id,
        "owner": chat(group.owner),
        "subject": group.subject,
        "creation": group.created_ms // 1000,
        "participants": [
            {"id": chat(r.phone), "isAdmin": r.admin, "isSuperAdmin": r.phone == group.owner}
            for r in rows
        ],
        "subjectTime": group.subject_ms // 1000,
        "subjectOwner": chat(group.subject_owner),
        "groupInviteLink": invite_link(group) if admin else "",
        "allowParticipantsEditGroupSettings": group.members_edit,
        "allowParticipantsSendMessages": group.members_send,
    }


def invite_link(group: SandboxGroupRow) -> str:
    return INVITE_PREFIX + group.invite_code


def invite_message_data(group: SandboxGroupRow, *, sender: str, caption: str) -> dict[str, Any]:
    """A private invite to the group as GREEN-API shows it (``groupInviteMessage``, §8)."""
    return {
        "typeMessage": "groupInviteMessage",
        "groupInviteMessageData": {
            "groupJid": group.group_id,
            "inviteCode": group.invite_code,
            "inviteExpiration": "0",
            "groupName": group.subject,
            "caption": caption,
            "name": sender,
            "jpegThumbnail": "",
        },
    }


async def admin_check(
    session: AsyncSession, group_id: str, actor: str
) -> tuple[SandboxGroupRow | None, str]:
    """The group and "" if ``actor`` administers it; else why not."""
    group = await get(session, group_id)
    if group is None:
        return None, NO_GROUP
    row = await member(session, group_id, actor)
    if row is None:
        return None, NOT_MEMBER
    if not row.admin:
        return None, NOT_ADMIN
    return group, ""


async def rename(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str, subject: str
) -> str:
    group = await get(session, group_id)
    if group is None:
        return NO_GROUP
    row = await member(session, group_id, actor)
    if row is None:
        return NOT_MEMBER
    if not row.admin and not group.members_edit:
        return NOT_ADMIN
    group.subject, group.subject_ms, group.subject_owner = subject, now_ms(), actor
    await session.flush()
    await tell(session, signals, group, N.CHANGE_SUBJECT, actor=actor, parameters=[subject])
    return ""


async def set_picture(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str, picture: dict[str, Any]
) -> str:
    group = await get(session, group_id)
    if group is None:
        return NO_GROUP
    row = await member(session, group_id, actor)
    if row is None:
        return NOT_MEMBER
    if not row.admin and not group.members_edit:
        return NOT_ADMIN
    group.picture = orjson.dumps(picture).decode()
    await session.flush()
    await tell(session, signals, group, N.CHANGE_ICON, actor=actor)
    return ""


async def add(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str, phone: str
) -> str:
    """``actor`` adds ``phone``: an admin, or any member while members may add others."""
    group, refused = await admin_check(session, group_id, actor)
    if group is None and refused == NOT_ADMIN:
        group = await get(session, group_id)
        if group is not None and not group.members_add:
            return NOT_ADMIN
    if group is None:
        return refused
    if await member(session, group_id, phone) is not None:
        return ALREADY_MEMBER
    await _join(session, group_id, actor, phone)
    await session.flush()
    await tell(session, signals, group, N.PARTICIPANT_ADD, actor=actor, parameters=[phone])
    return ""


async def remove(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str, phone: str
) -> str:
    group, refused = await admin_check(session, group_id, actor)
    if group is None:
        return refused
    if phone == group.owner:
        return OWNER
    row = await member(session, group_id, phone)
    if row is None:
        return NOT_MEMBER
    await session.delete(row)
    await session.flush()
    await tell(
        session, signals, group, N.PARTICIPANT_REMOVE, actor=actor, parameters=[phone], also=[phone]
    )
    return ""


async def set_admin(
    session: AsyncSession, signals: Signals, *, actor: str, group_id: str, phone: str, admin: bool
) -> str:
    group, refused = await admin_check(session, group_id, actor)
    if group is None:
        return refused
    if phone == group.owner and not admin:
        return OWNER
    row = await member(session, group_id, phone)
    if row is None:
        return NOT_MEMBER
    row.admin = admin
    await session.flush()
    kind = N.PARTICIPANT_PROMOTE if admin else N.PARTICIPANT_DEMOTE
    await tell(session, signals, group, kind, actor=actor, parameters=[phone])
    return ""


async def leave(session: AsyncSession, signals: Signals, *, actor: str, group_id: str) -> str:
    """``actor`` leaves; a group left without admins gets its longest member as one."""
    group = await get(session, group_id)
    row = None if group is None else await member(session, group_id, actor)
    if group is None or row is None:
        return NOT_MEMBER if group is not None else NO_GROUP
    await session.delete(row)
    await session.flush()
    rest = await members(session, group_id)
    if rest and not any(r.admin for r in rest):
        rest[0].admin = True
        await session.flush()
    await tell(
        session, signals, group, N.PARTICIPANT_LEAVE, actor=actor, parameters=[actor], also=[actor]
    )
    return ""


async def update_settings(
    session: AsyncSession,
    signals: Signals,
    *,
    actor: str,
    group_id: str,
    members_edit: bool | None,
    members_send: bool | None,
) -> str:
    group, refused = await admin_check(session, group_id, actor)
    if group is None:
        return refused
    changes: list[tuple[N, bool]] = []
    if members_edit is not None and members_edit != group.members_edit:
        group.members_edit = members_edit
        changes.append((N.CHANGE_RESTRICT, not members_edit))
    if members_send is not None and members_send != group.members_send:
        group.members_send = members_send
        changes.append((N.CHANGE_ANNOUNCE, not members_send))
    await session.flush()
    for kind, on in changes:
        await tell(session, signals, group, kind, actor=actor, parameters=["on" if on else "off"])
    return ""


async def post_message(
    session: AsyncSession,
    signals: Signals,
    *,
    from_phone: str,
    group_id: str,
    id_message: str,
    payload: dict[str, Any],
) -> str:
    """Deliver a message from a member to every other member (idempotent by sender and id);
    "" when sent, or why not (NOT_MEMBER: its sender gets the notInGroup status)."""
    group = await get(session, group_id)
    row = None if group is None else await member(session, group_id, from_phone)
    if group is None or row is None:
        return NOT_MEMBER
    if not group.members_send and not row.admin:
        return ADMINS_ONLY
    sent_before = select(SandboxEventRow.id).where(
        SandboxEventRow.kind == network.MESSAGE,
        SandboxEventRow.from_phone == from_phone,
        SandboxEventRow.id_message == id_message,
    )
    if await session.scalar(sent_before.limit(1)) is not None:
        return ""
    body = payload | {"groupId": group_id, "groupName": group.subject}
    for other in await members(session, group_id):
        if other.phone == from_phone:
            continue
        await network.post_event(
            session, signals, network.MESSAGE, from_phone, other.phone, id_message, body
        )
        if not await network.linked_instances(session, other.phone):
            await network.post_receipts(
                session,
                signals,
                from_phone=other.phone,
                to_phone=from_phone,
                id_messages=[id_message],
                status=MessageStatus.DELIVERED,
            )
    return ""
