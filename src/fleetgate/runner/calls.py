"""How a session answers the calls the API makes into it (services/engine_calls.py): one
handler per call name.

A handler takes the session and the call's arguments and returns what the caller gets (JSON).
A call an engine does not implement answers NOT_SUPPORTED in the façade's format: engines
implement the optional methods they can (:func:`optional` finds them), and the engine contract
suite holds every engine to the answer either way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fleetgate.domain.files import StoredFile
from fleetgate.engines.base import NOT_SUPPORTED, EngineError, OutgoingStatus, Session
from fleetgate.runner import group_admin_calls, group_calls
from fleetgate.services import engine_calls

log = logging.getLogger(__name__)

Handler = Callable[[Session, dict[str, Any]], Awaitable[Any]]


def optional(session: Session, name: str) -> Callable[..., Awaitable[Any]]:
    """The session's method ``name``, or EngineError(NOT_SUPPORTED) if its engine has none."""
    method = getattr(session, name, None)
    if method is None:
        raise EngineError(NOT_SUPPORTED)
    return method  # type: ignore[no-any-return]


async def _qr(session: Session, args: dict[str, Any]) -> Any:
    qr = await session.qr()
    return {"payload": qr.payload, "expiresMs": qr.expires_ms}


async def _pairing_code(session: Session, args: dict[str, Any]) -> Any:
    return await session.pairing_code(str(args["phone"]))


async def _exists(session: Session, args: dict[str, Any]) -> Any:
    return await session.exists(str(args["phone"]))


async def _read_chat(session: Session, args: dict[str, Any]) -> Any:
    await session.read_chat(str(args["chatId"]), [str(i) for i in args["ids"]])
    return True


async def _delete_message(session: Session, args: dict[str, Any]) -> Any:
    delete = optional(session, "delete_message")
    await delete(
        str(args["chatId"]), str(args["idMessage"]), for_everyone=bool(args["forEveryone"])
    )
    return True


async def _edit_message(session: Session, args: dict[str, Any]) -> Any:
    edit = optional(session, "edit_message")
    await edit(
        str(args["chatId"]), str(args["idMessage"]), id_edit=str(args["idEdit"]), text=args["text"]
    )
    return True


async def _send_typing(session: Session, args: dict[str, Any]) -> Any:
    typing = optional(session, "send_typing")
    await typing(
        str(args["chatId"]), recording=bool(args["recording"]), duration_ms=int(args["durationMs"])
    )
    return True


async def _archive_chat(session: Session, args: dict[str, Any]) -> Any:
    archive = optional(session, "archive_chat")
    await archive(str(args["chatId"]), archived=bool(args["archived"]))
    return True


async def _set_disappearing(session: Session, args: dict[str, Any]) -> Any:
    disappearing = optional(session, "set_disappearing")
    await disappearing(str(args["chatId"]), expiration_s=int(args["expiration"]))
    return True


def _file(args: dict[str, Any]) -> StoredFile | None:
    return StoredFile.from_json(args.get("file"))


async def _send_status(session: Session, args: dict[str, Any]) -> Any:
    status = OutgoingStatus(
        id_message=str(args["idMessage"]),
        message_data=dict(args["messageData"]),
        participants=[str(p) for p in args.get("participants") or []],
        file=_file(args),
        media=args.get("media"),
    )
    await optional(session, "send_status")(status)
    return True


async def _delete_status(session: Session, args: dict[str, Any]) -> Any:
    return await optional(session, "delete_status")(str(args["idMessage"]))


async def _status_statistic(session: Session, args: dict[str, Any]) -> Any:
    views = await optional(session, "status_statistic")(str(args["idMessage"]))
    if views is None:
        return None
    return [{"participant": p, "timestampMs": at, "status": s} for p, at, s in views]


async def _statuses(session: Session, args: dict[str, Any]) -> Any:
    found = await optional(session, "statuses")(
        incoming=bool(args["incoming"]), since_ms=int(args["sinceMs"])
    )
    return [
        {
            "idMessage": s.id_message,
            "sender": s.sender,
            "atMs": s.at_ms,
            "messageData": s.message_data,
            "participants": s.participants,
            "media": s.media,
        }
        for s in found
    ]


async def _set_profile_picture(session: Session, args: dict[str, Any]) -> Any:
    file = _file(args)
    if file is None:
        raise EngineError("no picture given")
    await optional(session, "set_profile_picture")(file)
    return True


HANDLERS: dict[str, Handler] = {
    engine_calls.SEND_STATUS: _send_status,
    engine_calls.DELETE_STATUS: _delete_status,
    engine_calls.STATUS_STATISTIC: _status_statistic,
    engine_calls.STATUSES: _statuses,
    engine_calls.SET_PROFILE_PICTURE: _set_profile_picture,
    engine_calls.QR: _qr,
    engine_calls.PAIRING_CODE: _pairing_code,
    engine_calls.EXISTS: _exists,
    engine_calls.READ_CHAT: _read_chat,
    **group_calls.handlers(optional),
    **group_admin_calls.handlers(optional),
    engine_calls.DELETE_MESSAGE: _delete_message,
    engine_calls.EDIT_MESSAGE: _edit_message,
    engine_calls.SEND_TYPING: _send_typing,
    engine_calls.ARCHIVE_CHAT: _archive_chat,
    engine_calls.SET_DISAPPEARING: _set_disappearing,
}


async def answer(session: Session, method: str, args: dict[str, Any]) -> str:
    """The packed answer of ``session`` to the call ``method(args)``."""
    handler = HANDLERS.get(method)
    if handler is None:
        return engine_calls.pack_error(f"unknown engine call {method}")
    try:
        return engine_calls.pack_ok(await handler(session, args))
    except EngineError as exc:
        return engine_calls.pack_error(str(exc))
    except Exception:
        log.exception("engine call %s failed", method)
        return engine_calls.pack_error(engine_calls.STARTING_TEXT)
