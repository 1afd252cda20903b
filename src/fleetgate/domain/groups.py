"""Group changes as members learn of them: Z-API forwards them as notifications (GREEN-API
sends none, its spec §8)."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class GroupNotification(enum.StrEnum):
    """What happened in a group, by WhatsApp's message stub names (Z-API's ``notification``)."""

    CREATE = "GROUP_CREATE"
    PARTICIPANT_ADD = "GROUP_PARTICIPANT_ADD"
    PARTICIPANT_REMOVE = "GROUP_PARTICIPANT_REMOVE"
    PARTICIPANT_LEAVE = "GROUP_PARTICIPANT_LEAVE"
    PARTICIPANT_PROMOTE = "GROUP_PARTICIPANT_PROMOTE"
    PARTICIPANT_DEMOTE = "GROUP_PARTICIPANT_DEMOTE"
    # A member joined through the invite link (or an admin approved their request).
    PARTICIPANT_INVITE = "GROUP_PARTICIPANT_INVITE"
    CHANGE_SUBJECT = "GROUP_CHANGE_SUBJECT"
    CHANGE_DESCRIPTION = "GROUP_CHANGE_DESCRIPTION"
    CHANGE_ICON = "GROUP_CHANGE_ICON"
    CHANGE_INVITE_LINK = "GROUP_CHANGE_INVITE_LINK"
    # Only admins may send ("on") / edit the group ("on").
    CHANGE_ANNOUNCE = "GROUP_CHANGE_ANNOUNCE"
    CHANGE_RESTRICT = "GROUP_CHANGE_RESTRICT"
    MEMBER_ADD_MODE = "GROUP_MEMBER_ADD_MODE"
    JOIN_APPROVAL_MODE = "GROUP_MEMBERSHIP_JOIN_APPROVAL_MODE"
    # Someone asked to join a group that wants approval (to its admins), or was turned down.
    APPROVAL_REQUEST = "MEMBERSHIP_APPROVAL_REQUEST"
    REVOKED_REQUESTS = "REVOKED_MEMBERSHIP_REQUESTS"


@dataclass(frozen=True, slots=True)
class GroupEvent:
    """A change of group ``group_id`` (``…@g.us``) made by ``actor`` (``…@c.us``), seen by a
    member; ``parameters`` are the phones it concerns (or the new subject, "on"/"off", ...)."""

    id_event: str
    group_id: str
    group_name: str
    notification: GroupNotification
    actor: str
    parameters: list[str]
    # How a join request came (invite_link), on MEMBERSHIP_APPROVAL_REQUEST only.
    request_method: str = ""
