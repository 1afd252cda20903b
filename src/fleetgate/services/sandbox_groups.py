"""The sandbox network's groups, as a partner's virtual phones act in them (api/sandbox_groups.py).

A phone acts only for the partner holding it (services/sandbox_phones.py). Each change answers
"" when done or why it was refused, as the network decides (engines/sandbox/groups.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.partners import Partner
from fleetgate.engines.sandbox import group_admin, groups, network
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import new_message_id
from fleetgate.services.sandbox_phones import claim
from fleetgate.storage.signals import Signals

# What a phone can do to a group: its network function, and the body fields it takes.
ACTIONS = ("name", "add", "remove", "promote", "demote", "leave", "settings", "join")


async def create(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    name: str,
    members: list[str],
) -> dict[str, Any]:
    """A new group owned by the phone; createGroup's answer."""
    owner = await claim(session=session, partner=partner, phone=phone)
    group = await groups.create(session, signals, owner=owner, subject=name, members=members)
    return {"created": True, "chatId": group.group_id, "groupInviteLink": groups.invite_link(group)}


async def data(
    *, session: AsyncSession, partner: Partner, phone: str, group_id: str
) -> dict[str, Any]:
    """getGroupData's answer as the phone sees the group."""
    viewer = await claim(session=session, partner=partner, phone=phone)
    found = await groups.data(session, group_id, viewer=viewer)
    if found is None:
        raise NotFound(groups.NO_GROUP)
    return found


async def list_groups(
    *, session: AsyncSession, partner: Partner, phone: str
) -> list[dict[str, Any]]:
    """The groups the phone is a member of, each as getGroupData shows it."""
    viewer = await claim(session=session, partner=partner, phone=phone)
    found = [
        await groups.data(session, g, viewer=viewer)
        for g in await groups.groups_of(session, viewer)
    ]
    return [g for g in found if g is not None]


async def act(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    group_id: str,
    action: str,
    name: str = "",
    participant: str = "",
    members_edit: bool | None = None,
    members_send: bool | None = None,
    invite_link: str = "",
) -> str:
    """The phone changes the group (one of ACTIONS); "" when done, else why not. ``join``
    follows ``invite_link`` (a group that wants approval keeps a request: "" too)."""
    me = await claim(session=session, partner=partner, phone=phone)
    if action == "join":
        joined, _, refused = await group_admin.join(session, signals, phone=me, link=invite_link)
        if not refused and joined != group_id:
            raise InvalidInput("the invite link is not this group's")
        return refused
    if action == "name":
        return await groups.rename(session, signals, actor=me, group_id=group_id, subject=name)
    if action == "add":
        return await groups.add(session, signals, actor=me, group_id=group_id, phone=participant)
    if action == "remove":
        return await groups.remove(session, signals, actor=me, group_id=group_id, phone=participant)
    if action in ("promote", "demote"):
        return await groups.set_admin(
            session,
            signals,
            actor=me,
            group_id=group_id,
            phone=participant,
            admin=action == "promote",
        )
    if action == "leave":
        return await groups.leave(session, signals, actor=me, group_id=group_id)
    if action == "settings":
        return await groups.update_settings(
            session,
            signals,
            actor=me,
            group_id=group_id,
            members_edit=members_edit,
            members_send=members_send,
        )
    raise InvalidInput(f"action must be one of {', '.join(ACTIONS)}")


async def send_invite(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    group_id: str,
    to_phone: str,
    caption: str,
) -> str:
    """The phone, an admin of the group, sends ``to_phone`` a private invite to it (a
    groupInviteMessage in their chat); its idMessage."""
    me = await claim(session=session, partner=partner, phone=phone)
    group = await groups.get(session, group_id)
    if group is None:
        raise NotFound(groups.NO_GROUP)
    row = await groups.member(session, group_id, me)
    if row is None or not row.admin:
        raise InvalidInput(groups.NOT_ADMIN)
    id_message = new_message_id()
    data = groups.invite_message_data(group, sender=me, caption=caption)
    await network.post_message(
        session,
        signals,
        from_phone=me,
        to_phone=to_phone,
        id_message=id_message,
        payload={"messageData": data, "senderName": me},
    )
    return id_message


async def send_text(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    group_id: str,
    text: str,
) -> str:
    """The phone writes a text to a group it is a member of; its idMessage."""
    me = await claim(session=session, partner=partner, phone=phone)
    id_message = new_message_id()
    data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}
    refused = await groups.post_message(
        session,
        signals,
        from_phone=me,
        group_id=group_id,
        id_message=id_message,
        payload={"messageData": data, "senderName": me},
    )
    if refused:
        raise InvalidInput(refused)
    return id_message
