"""What the engine and its worker processes say to each other, and how it is framed.

A frame is a 4-byte big-endian length and a JSON object, over a Unix stream socket the engine
hands the worker at start (the worker's stdout and stderr are not used: the Go library writes to
them). Three kinds of frame:

- :class:`Call` (engine -> worker): ``op`` on session ``sid`` (an instance id) with ``args``;
- :class:`Reply` (worker -> engine): the answer to the call with the same ``id``, a result or
  an error text;
- :class:`Event` (worker -> engine): something that happened in session ``sid``.

The ops and event kinds, with their fields, are listed in :data:`OPS` and :data:`EVENTS`; a
frame that names anything else, or lacks a field, is refused with :class:`ProtocolError`.

Files travel whole inside a frame, base64 in a JSON string (the ``file`` of a ``send``,
``group_picture`` or ``profile_picture`` call, a ``message`` event's ``file``): one frame per
file keeps a call and its bytes one unit, which a crash cannot split. Frames are therefore
bounded by :func:`frame_limit` of the largest file allowed, not by :data:`MAX_FRAME` alone.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass, field
from typing import Any

import orjson

# A frame without a file larger than this is a bug or an attack on the socket, never a message.
MAX_FRAME = 16 * 1024 * 1024
HEADER = struct.Struct(">I")


def frame_limit(max_file_bytes: int) -> int:
    """The largest frame allowed when files of up to ``max_file_bytes`` travel in frames: the
    file's base64 text plus room for everything else a message carries."""
    return 4 * -(-max_file_bytes // 3) + MAX_FRAME


def file_text(content: bytes) -> str:
    """A file's bytes as a frame carries them."""
    return base64.b64encode(content).decode("ascii")


def file_bytes(text: object) -> bytes:
    """A file's bytes from a frame (ProtocolError for anything but base64 text)."""
    if not isinstance(text, str):
        raise ProtocolError("file must be base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError("file must be base64 text") from None


# op -> the argument names it needs (its result is in the comment).
OPS: dict[str, tuple[str, ...]] = {
    "open": ("store", "jid"),  # start the device's connection (jid None: pair a new one) -> None
    "close": (),  # stop the connection, keep the keys -> None
    "logout": (),  # unlink the device and delete its keys -> None
    "pair_phone": ("phone",),  # -> the pairing code
    # -> WhatsApp's message id; a file message also has ``file`` {content (base64), mime_type,
    # file_name}: its bytes, which the worker uploads
    "send": ("chat_id", "message_data"),
    "mark_read": ("chat_id", "sender", "id_messages"),  # -> None
    "exists": ("phone",),  # -> bool
    # Groups (chat ids as fleetgate writes them). A change answers "" when done or the reason
    # WhatsApp refused it (groups.py); an error is kept for what could not be asked at all.
    "create_group": ("name", "participants"),  # -> {chatId, groupInviteLink}
    "group_data": ("group_id",),  # -> getGroupData's answer, or None: no such group
    "rename_group": ("group_id", "name"),  # -> "" or why not
    # action: add, remove, promote or demote -> "" or why not
    "group_participant": ("group_id", "participant", "action"),
    "leave_group": ("group_id",),  # -> "" or why not
    "group_picture": ("group_id", "file"),  # file as send's (a JPEG) -> "" or why not
    # either may be None (unchanged) -> "" or why not
    "group_settings": ("group_id", "members_edit", "members_send"),
    "describe_group": ("group_id", "description"),  # -> "" or why not
    "reset_invite": ("group_id",),  # a new invite link -> {link, reason}
    # the group an invite link leads to -> {groupId, state: joined | pending, reason}
    "join_group": ("link",),
    # Chats and the account's own messages -> None.
    "revoke": ("chat_id", "id_message"),  # delete the account's message for everyone
    "edit": ("chat_id", "id_message", "text"),  # replace the text of the account's message
    "typing": ("chat_id", "state"),  # state: composing, recording or paused
    "disappearing": ("chat_id", "expiration_s"),  # the chat's timer (0: off)
    "profile_picture": ("file",),  # file as send's (a JPEG)
    "block": ("chat_id", "blocked"),  # block (true) or unblock a person
    "ping": (),  # -> the worker's pid (sid 0)
    "migrate": ("store",),  # create or upgrade the store's tables now (sid 0) -> None
}

# kind -> the data fields it carries (see client.ClientEvents for their meaning).
EVENTS: dict[str, tuple[str, ...]] = {
    "qr": ("code", "expires_ms"),
    "qr_expired": (),
    "paired": ("jid",),
    "connected": ("jid",),
    "disconnected": ("reason",),
    "connect_failed": ("error",),  # connect() raised; the worker retries with backoff
    "logged_out": ("reason",),
    "banned": ("reason", "expire_s"),
    "replaced": (),
    "message": (
        "id_message",
        "chat_id",
        "sender",
        "sender_name",
        "timestamp_s",
        "from_me",
        "message_data",
    ),  # a media message whose file was downloaded also has ``file``: its bytes (base64)
    "receipt": ("chat_id", "id_messages", "status"),
    "presence": ("chat_id", "status", "last_seen_ms"),
    # sid 0: a log record of the worker (its stdout and stderr belong to the Go library);
    # level is the logging level number, logger the record's logger name.
    "log": ("level", "logger", "message"),
}


class ProtocolError(Exception):
    """A frame that is not one of ours."""


@dataclass(frozen=True, slots=True)
class Call:
    id: int
    op: str
    sid: int
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Reply:
    id: int
    ok: bool
    result: Any = None
    error: str = ""


@dataclass(frozen=True, slots=True)
class Event:
    sid: int
    kind: str
    data: dict[str, Any] = field(default_factory=dict)


Frame = Call | Reply | Event


def encode(frame: Frame, limit: int = MAX_FRAME) -> bytes:
    """The bytes of one frame, header included (ProtocolError when over ``limit``)."""
    if isinstance(frame, Call):
        obj: dict[str, Any] = {"t": "call", "id": frame.id, "op": frame.op, "sid": frame.sid}
        obj["args"] = frame.args
    elif isinstance(frame, Reply):
        obj = {"t": "reply", "id": frame.id, "ok": frame.ok}
        obj.update({"result": frame.result} if frame.ok else {"error": frame.error})
    else:
        obj = {"t": "event", "sid": frame.sid, "kind": frame.kind, "data": frame.data}
    body = orjson.dumps(obj)
    if len(body) > limit:
        raise ProtocolError(f"frame of {len(body)} bytes is over {limit}")
    return HEADER.pack(len(body)) + body


def body_length(header: bytes, limit: int = MAX_FRAME) -> int:
    """The body length a header announces (ProtocolError when over ``limit``)."""
    (length,) = HEADER.unpack(header)
    if length > limit:
        raise ProtocolError(f"frame of {length} bytes is over {limit}")
    return int(length)


def decode(body: bytes) -> Frame:
    """One frame from its body (the bytes after the header)."""
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ProtocolError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ProtocolError("a frame is a JSON object")
    kind = obj.get("t")
    if kind == "call":
        op, args = _str(obj, "op"), _dict(obj, "args")
        _require(OPS, op, args, "op")
        return Call(id=_int(obj, "id"), op=op, sid=_int(obj, "sid"), args=args)
    if kind == "reply":
        ok = obj.get("ok")
        if not isinstance(ok, bool):
            raise ProtocolError("reply.ok must be true or false")
        if ok:
            return Reply(id=_int(obj, "id"), ok=True, result=obj.get("result"))
        return Reply(id=_int(obj, "id"), ok=False, error=_str(obj, "error"))
    if kind == "event":
        name, data = _str(obj, "kind"), _dict(obj, "data")
        _require(EVENTS, name, data, "event")
        return Event(sid=_int(obj, "sid"), kind=name, data=data)
    raise ProtocolError(f"unknown frame type {kind!r}")


def _require(
    table: dict[str, tuple[str, ...]], name: str, fields: dict[str, Any], what: str
) -> None:
    needed = table.get(name)
    if needed is None:
        raise ProtocolError(f"unknown {what} {name!r}")
    missing = [key for key in needed if key not in fields]
    if missing:
        raise ProtocolError(f"{what} {name!r} lacks {', '.join(missing)}")


def _int(obj: dict[str, Any], key: str) -> int:
    value = obj.get(key)
    if not isinstance(value, int) or isinstance(value, bool):
        raise ProtocolError(f"{key} must be an integer")
    return value


def _str(obj: dict[str, Any], key: str) -> str:
    value = obj.get(key)
    if not isinstance(value, str):
        raise ProtocolError(f"{key} must be a string")
    return value


def _dict(obj: dict[str, Any], key: str) -> dict[str, Any]:
    value = obj.get(key, {})
    if not isinstance(value, dict):
        raise ProtocolError(f"{key} must be an object")
    return value
