"""Groups of the stand-in network (standin.py), with WhatsApp's rules.

The creator owns the group (a super admin nobody removes or demotes); only admins add,
remove, promote and demote members and change the settings; a locked group lets only admins
rename it or set its picture; a group shows its data to its members only; a group whose last
admin left makes its longest member an admin. Refusals are answered in the words of
``fleetgate_whatsapp.groups``, as the real client maps WhatsApp's.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
import string
import time
from typing import Any

from fleetgate_whatsapp.client import ClientError
from fleetgate_whatsapp.groups import (
    ALREADY_MEMBER,
    INVITE_PREFIX,
    JOINED,
    NO_GROUP,
    NO_INVITE,
    NOT_ADMIN,
    NOT_MEMBER,
)

OWNER = "the group's owner cannot be removed or demoted"


def phone_of(chat_id: str) -> str:
    phone, _, suffix = chat_id.partition("@")
    if suffix != "c.us" or not phone.isdigit():
        raise ClientError(f"a participant must be <phone digits>@c.us, not {chat_id!r}")
    return phone


def group_key(group_id: str) -> str:
    if not group_id.endswith("@g.us"):
        raise ClientError(f"a group id ends with @g.us, not {group_id!r}")
    return group_id


def create(conn: sqlite3.Connection, owner: str, name: str, participants: list[str]) -> str:
    members = [phone_of(p) for p in participants]
    group_id = "120363" + "".join(secrets.choice(string.digits) for _ in range(12)) + "@g.us"
    now = int(time.time())
    invite = _new_code()
    conn.execute(
        "INSERT INTO groups (group_id, subject, owner, created_s, subject_s, subject_by, invite)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (group_id, name, owner, now, now, owner, invite),
    )
    _join(conn, group_id, owner, admin=True)
    for phone in dict.fromkeys(members):
        if phone != owner:
            _join(conn, group_id, phone, admin=False)
    return group_id


def invite_link(conn: sqlite3.Connection, group_id: str) -> str:
    row = conn.execute("SELECT invite FROM groups WHERE group_id = ?", (group_id,)).fetchone()
    return INVITE_PREFIX + str(row[0])


def data(conn: sqlite3.Connection, me: str, group_id: str) -> dict[str, Any] | None:
    group = _group(conn, group_key(group_id))
    if group is None:
        return None
    members = _members(conn, group_id)
    if me not in members:
        raise ClientError(NOT_MEMBER)
    owner = group["owner"]
    return {
        "groupId": group_id,
        "owner": f"{owner}@c.us",
        "subject": group["subject"],
        "creation": group["created_s"],
        "participants": [
            {"id": f"{phone}@c.us", "isAdmin": admin, "isSuperAdmin": phone == owner}
            for phone, admin in members.items()
        ],
        "subjectTime": group["subject_s"],
        "subjectOwner": f"{group['subject_by']}@c.us",
        "groupInviteLink": invite_link(conn, group_id) if members[me] else "",
        "allowParticipantsEditGroupSettings": not group["locked"],
        "allowParticipantsSendMessages": not group["announce"],
    }


def rename(conn: sqlite3.Connection, me: str, group_id: str, name: str) -> str:
    refused = _may_edit(conn, me, group_id)
    if not refused:
        conn.execute(
            "UPDATE groups SET subject = ?, subject_s = ?, subject_by = ? WHERE group_id = ?",
            (name, int(time.time()), me, group_id),
        )
    return refused


def set_picture(conn: sqlite3.Connection, me: str, group_id: str, content: bytes) -> str:
    refused = _may_edit(conn, me, group_id)
    if not refused:
        digest = hashlib.sha256(content).hexdigest()
        conn.execute("UPDATE groups SET picture = ? WHERE group_id = ?", (digest, group_id))
    return refused


def change(conn: sqlite3.Connection, me: str, group_id: str, participant: str, action: str) -> str:
    phone = phone_of(participant)
    refused = _admin_check(conn, me, group_id)
    if refused:
        return refused
    group = _group(conn, group_id)
    assert group is not None
    members = _members(conn, group_id)
    if action == "add":
        if phone in members:
            return ALREADY_MEMBER
        _join(conn, group_id, phone, admin=False)
        return ""
    if phone not in members:
        return NOT_MEMBER
    if phone == group["owner"] and action in ("remove", "demote"):
        return OWNER
    if action == "remove":
        conn.execute("DELETE FROM members WHERE group_id = ? AND phone = ?", (group_id, phone))
    else:
        conn.execute(
            "UPDATE members SET admin = ? WHERE group_id = ? AND phone = ?",
            (action == "promote", group_id, phone),
        )
    return ""


def leave(conn: sqlite3.Connection, me: str, group_id: str) -> str:
    if _group(conn, group_key(group_id)) is None:
        return NO_GROUP
    if me not in _members(conn, group_id):
        return NOT_MEMBER
    conn.execute("DELETE FROM members WHERE group_id = ? AND phone = ?", (group_id, me))
    rest = _members(conn, group_id)
    if rest and not any(rest.values()):
        conn.execute(
            "UPDATE members SET admin = 1 WHERE group_id = ? AND phone = ?",
            (group_id, next(iter(rest))),
        )
    return ""


def settings(
    conn: sqlite3.Connection,
    me: str,
    group_id: str,
    members_edit: bool | None,
    members_send: bool | None,
) -> str:
    refused = _admin_check(conn, me, group_id)
    if refused:
        return refused
    if members_edit is not None:
        conn.execute(
            "UPDATE groups SET locked = ? WHERE group_id = ?", (not members_edit, group_id)
        )
    if members_send is not None:
        conn.execute(
            "UPDATE groups SET announce = ? WHERE group_id = ?", (not members_send, group_id)
        )
    return ""


def describe(conn: sqlite3.Connection, me: str, group_id: str, description: str) -> str:
    """A group's description is edited as its subject is (admins only when locked)."""
    refused = _may_edit(conn, me, group_id)
    if not refused:
        conn.execute(
            "UPDATE groups SET description = ? WHERE group_id = ?", (description, group_id)
        )
    return refused


def reset_invite(conn: sqlite3.Connection, me: str, group_id: str) -> dict[str, str]:
    """Admins only: a new link, the old one leading nowhere from now on."""
    refused = _admin_check(conn, me, group_id)
    if refused:
        return {"link": "", "reason": refused}
    conn.execute("UPDATE groups SET invite = ? WHERE group_id = ?", (_new_code(), group_id))
    return {"link": invite_link(conn, group_id), "reason": ""}


def join(conn: sqlite3.Connection, me: str, link: str) -> dict[str, str]:
    """Join the group a link leads to (the stand-in's groups let anyone with the link in)."""
    code = link.removeprefix(INVITE_PREFIX)
    row = conn.execute("SELECT group_id FROM groups WHERE invite = ?", (code,)).fetchone()
    if row is None or not link.startswith(INVITE_PREFIX):
        return {"groupId": "", "state": "", "reason": NO_INVITE}
    group_id = str(row[0])
    if me in _members(conn, group_id):
        return {"groupId": "", "state": "", "reason": ALREADY_MEMBER}
    _join(conn, group_id, me, admin=False)
    return {"groupId": group_id, "state": JOINED, "reason": ""}


def others(conn: sqlite3.Connection, me: str, group_id: str) -> list[str]:
    """Every member of the group but ``me`` (ClientError if ``me`` is none)."""
    members = _members(conn, group_id)
    if me not in members:
        raise ClientError(NOT_MEMBER)
    return [phone for phone in members if phone != me]


def _join(conn: sqlite3.Connection, group_id: str, phone: str, *, admin: bool) -> None:
    seq = conn.execute("SELECT coalesce(max(seq), 0) + 1 FROM members").fetchone()[0]
    conn.execute(
        "INSERT INTO members (group_id, phone, admin, seq) VALUES (?, ?, ?, ?)",
        (group_id, phone, admin, seq),
    )


def _new_code() -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(22))


def _group(conn: sqlite3.Connection, group_id: str) -> dict[str, Any] | None:
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM groups WHERE group_id = ?", (group_id,)).fetchone()
    finally:
        conn.row_factory = None
    return None if row is None else dict(row)


def _members(conn: sqlite3.Connection, group_id: str) -> dict[str, bool]:
    rows = conn.execute(
        "SELECT phone, admin FROM members WHERE group_id = ? ORDER BY seq", (group_id,)
    ).fetchall()
    return {phone: bool(admin) for phone, admin in rows}


def _admin_check(conn: sqlite3.Connection, me: str, group_id: str) -> str:
    if _group(conn, group_key(group_id)) is None:
        return NO_GROUP
    members = _members(conn, group_id)
    if me not in members:
        return NOT_MEMBER
    return "" if members[me] else NOT_ADMIN


def _may_edit(conn: sqlite3.Connection, me: str, group_id: str) -> str:
    group = _group(conn, group_key(group_id))
    if group is None:
        return NO_GROUP
    members = _members(conn, group_id)
    if me not in members:
        return NOT_MEMBER
    return NOT_ADMIN if group["locked"] and not members[me] else ""
