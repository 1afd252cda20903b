"""The worker's handlers of the group and chat ops (ipc.OPS): each checks its arguments, then
asks the session's client. The connection's own ops (open, close, send, ...) stay in
``worker.py``, which owns the sessions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fleetgate_whatsapp.client import TYPING_STATES, Client, ClientError, FileToSend
from fleetgate_whatsapp.groups import ACTIONS
from fleetgate_whatsapp.ipc import ProtocolError, file_bytes

Handler = Callable[[Client, dict[str, Any]], Any]


def text_arg(args: dict[str, Any], key: str) -> str:
    """A non-empty string argument (ClientError otherwise)."""
    value = args[key]
    if not isinstance(value, str) or not value:
        raise ClientError(f"{key} must be a non-empty string")
    return value


def file_arg(args: dict[str, Any], key: str = "file") -> FileToSend | None:
    """The file a call carries (``{content (base64), mime_type, file_name}``), or None."""
    file = args.get(key)
    if file is None:
        return None
    if not isinstance(file, dict):
        raise ClientError(f"{key} must be an object")
    try:
        content = file_bytes(file.get("content"))
    except ProtocolError as exc:
        raise ClientError(str(exc)) from None
    mime_type, file_name = file.get("mime_type"), file.get("file_name")
    if not isinstance(mime_type, str) or not isinstance(file_name, str):
        raise ClientError(f"{key}.mime_type and {key}.file_name must be strings")
    return FileToSend(content, mime_type, file_name)


def _picture(args: dict[str, Any]) -> FileToSend:
    picture = file_arg(args)
    if picture is None or not picture.content:
        raise ClientError("file must be a picture")
    return picture


def _flag(args: dict[str, Any], key: str) -> bool | None:
    value = args[key]
    if value is not None and not isinstance(value, bool):
        raise ClientError(f"{key} must be true, false or null")
    return value


def _create_group(client: Client, args: dict[str, Any]) -> Any:
    members = args["participants"]
    if not isinstance(members, list) or not all(isinstance(m, str) and m for m in members):
        raise ClientError("participants must be a list of chat ids")
    return client.create_group(text_arg(args, "name"), members)


def _group_participant(client: Client, args: dict[str, Any]) -> Any:
    action = args["action"]
    if action not in ACTIONS:
        raise ClientError(f"action must be one of {', '.join(ACTIONS)}")
    group, participant = text_arg(args, "group_id"), text_arg(args, "participant")
    return client.group_participant(group, participant, action)


def _group_settings(client: Client, args: dict[str, Any]) -> Any:
    return client.group_settings(
        text_arg(args, "group_id"),
        members_edit=_flag(args, "members_edit"),
        members_send=_flag(args, "members_send"),
    )


def _typing(client: Client, args: dict[str, Any]) -> Any:
    state = args["state"]
    if state not in TYPING_STATES:
        raise ClientError(f"state must be one of {', '.join(TYPING_STATES)}")
    client.typing(text_arg(args, "chat_id"), state)


def _disappearing(client: Client, args: dict[str, Any]) -> Any:
    expiration = args["expiration_s"]
    if not isinstance(expiration, int) or isinstance(expiration, bool) or expiration < 0:
        raise ClientError("expiration_s must be a whole number of seconds, 0 or more")
    client.disappearing(text_arg(args, "chat_id"), expiration)


def _block(client: Client, args: dict[str, Any]) -> Any:
    blocked = args["blocked"]
    if not isinstance(blocked, bool):
        raise ClientError("blocked must be true or false")
    client.block(text_arg(args, "chat_id"), blocked)


def _describe_group(client: Client, args: dict[str, Any]) -> Any:
    description = args["description"]
    if not isinstance(description, str):
        raise ClientError("description must be a string")
    return client.describe_group(text_arg(args, "group_id"), description)


HANDLERS: dict[str, Handler] = {
    "create_group": _create_group,
    "group_data": lambda c, a: c.group_data(text_arg(a, "group_id")),
    "rename_group": lambda c, a: c.rename_group(text_arg(a, "group_id"), text_arg(a, "name")),
    "group_participant": _group_participant,
    "leave_group": lambda c, a: c.leave_group(text_arg(a, "group_id")),
    "group_picture": lambda c, a: c.group_picture(text_arg(a, "group_id"), _picture(a)),
    "group_settings": _group_settings,
    "describe_group": _describe_group,
    "reset_invite": lambda c, a: c.reset_invite(text_arg(a, "group_id")),
    "join_group": lambda c, a: c.join_group(text_arg(a, "link")),
    "revoke": lambda c, a: c.revoke(text_arg(a, "chat_id"), text_arg(a, "id_message")),
    "edit": lambda c, a: c.edit(
        text_arg(a, "chat_id"), text_arg(a, "id_message"), text_arg(a, "text")
    ),
    "typing": _typing,
    "disappearing": _disappearing,
    "profile_picture": lambda c, a: c.profile_picture(_picture(a)),
    "block": _block,
}
