"""Groups between WhatsApp's terms and fleetgate's; used inside worker processes only.

A group as neonize describes it (a ``GroupInfo``) becomes getGroupData's answer
(:func:`group_data`), and what WhatsApp says when it refuses a change (an error of the library,
or a participant's error code) becomes the reason a group method answers (:func:`refusal`,
:func:`participant_refusal`), in the words the sandbox engine uses for the same situations
(``fleetgate/engines/sandbox/groups.py``), so a client sees one vocabulary whatever the engine.

Like ``translate.py`` it needs only neonize's protobuf classes (``proto.py``), never the library.
"""

from __future__ import annotations

from typing import Any

from fleetgate_whatsapp.chats import chat_id_of

INVITE_PREFIX = "https://chat.whatsapp.com/"
# The sandbox engine's words (engines/sandbox/groups.py), for the same refusals.
NO_GROUP = "group not found"
NOT_MEMBER = "not a member of the group"
NOT_ADMIN = "NOT_ENOUGH_RIGHTS"
ALREADY_MEMBER = "already a member of the group"
NO_INVITE = "invite link not valid"
JOINED, PENDING = "joined", "pending"
# WhatsApp's own refusals, which the sandbox network has no counterpart of.
INVITE_ONLY = "the participant's privacy settings allow group invites only"
NOT_ON_WHATSAPP = "the participant has no WhatsApp account"
RECENTLY_LEFT = "the participant left the group recently and cannot be added back yet"

# What whatsmeow's errors say (a library error's text), the first match deciding.
_ERROR_REASONS = (
    ("invite link is not valid", NO_INVITE),
    ("invite link has been revoked", NO_INVITE),
    ("you're not participating in that group", NOT_MEMBER),
    ("that group does not exist", NO_GROUP),
    ("status 404", NO_GROUP),
    ("item-not-found", NO_GROUP),
    ("status 403", NOT_ADMIN),
    ("forbidden", NOT_ADMIN),
    ("status 401", NOT_ADMIN),
    ("not-authorized", NOT_ADMIN),
)
# A participant's error code in the answer to a change of members (an IQ status of its own).
_PARTICIPANT_CODES = {
    401: NOT_ADMIN,
    404: NOT_MEMBER,
    408: RECENTLY_LEFT,
    409: ALREADY_MEMBER,
}
ACTIONS = ("add", "remove", "promote", "demote")


def refusal(error: str) -> str | None:
    """The reason to answer for a library error that is WhatsApp refusing a group change; None
    for an error that is not a refusal (the connection, a bug): that one stays an error."""
    text = error.lower()
    for words, reason in _ERROR_REASONS:
        if words in text:
            return reason
    return None


def participant_refusal(participant: Any, action: str) -> str:
    """Why WhatsApp refused a change of one member (a ``GroupParticipant`` of the answer); ""
    when it was done. A 403 on an add means the person takes invites only (``AddRequest``)."""
    code = int(participant.Error)
    if code in (0, 200):
        return ""
    if code == 403:
        return INVITE_ONLY if action == "add" else NOT_ADMIN
    if code == 404 and action == "add":
        return NOT_ON_WHATSAPP
    return _PARTICIPANT_CODES.get(code, f"refused by WhatsApp (code {code})")


def is_admin(info: Any, me: str) -> bool:
    """Whether the account (``me``, its ``<phone>@c.us``) administers the group."""
    return any(_member_id(p) == me and (p.IsAdmin or p.IsSuperAdmin) for p in info.Participants)


def group_data(info: Any, *, invite_link: str) -> dict[str, Any]:
    """getGroupData's answer for a ``GroupInfo`` (the shape the sandbox engine answers);
    ``invite_link``: the group's link, "" unless the account administers it."""
    name = info.GroupName
    return {
        "groupId": chat_id_of(info.JID),
        "owner": _chat_or_blank(info.OwnerJID, info.OwnerPN),
        "subject": name.Name,
        # A 32-bit float in neonize's answer: precise to a minute or two.
        "creation": int(info.GroupCreated),
        "participants": [
            {
                "id": _member_id(p),
                # The owner is an admin too, as GREEN-API lists it.
                "isAdmin": bool(p.IsAdmin or p.IsSuperAdmin),
                "isSuperAdmin": bool(p.IsSuperAdmin),
            }
            for p in info.Participants
        ],
        "subjectTime": int(name.NameSetAt),
        "subjectOwner": _chat_or_blank(name.NameSetBy),
        "groupInviteLink": invite_link,
        # A locked group lets only admins edit it; an announcement group lets only admins write.
        "allowParticipantsEditGroupSettings": not info.GroupLocked.isLocked,
        "allowParticipantsSendMessages": not info.GroupAnnounce.IsAnnounce,
    }


def invite_code(link: str) -> str:
    """The code of an invite link (what the library joins or asks about); "" for what is no
    WhatsApp invite link."""
    code = link.strip().removeprefix(INVITE_PREFIX).strip("/")
    return code if code.isalnum() and link.strip().startswith(INVITE_PREFIX) else ""


def invite_link(code_or_link: str) -> str:
    """The full link of an invite (the library answers the link; a bare code is completed)."""
    if code_or_link.startswith("https://"):
        return code_or_link
    return INVITE_PREFIX + code_or_link if code_or_link else ""


def _member_id(participant: Any) -> str:
    # A member named by a LID comes with its phone (PhoneNumber) when WhatsApp gave it.
    return _chat_or_blank(participant.JID, participant.PhoneNumber)


def _chat_or_blank(jid: Any, alt: Any = None) -> str:
    if not jid.User:
        return ""
    try:
        return chat_id_of(jid, alt if alt is not None and alt.User else None)
    except ValueError:
        return ""
