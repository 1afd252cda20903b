"""The group calls (engines/base.py GroupSession): optional session methods, so an engine
without them answers NOT_SUPPORTED (runner/calls.py passes its ``optional`` in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fleetgate.domain.files import StoredFile
from fleetgate.engines.base import Session
from fleetgate.services import engine_calls as c

Handler = Callable[[Session, dict[str, Any]], Awaitable[Any]]
Lookup = Callable[[Session, str], Callable[..., Awaitable[Any]]]
_PARTICIPANT_CALLS = (
    c.ADD_GROUP_PARTICIPANT,
    c.REMOVE_GROUP_PARTICIPANT,
    c.SET_GROUP_ADMIN,
    c.REMOVE_GROUP_ADMIN,
)


def handlers(optional: Lookup) -> dict[str, Handler]:
    """One handler per group call, each fetching its session method with ``optional`` first
    (an engine without it answers NOT_SUPPORTED, whatever the arguments)."""

    async def create(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.CREATE_GROUP)
        return await method(str(args["groupName"]), [str(p) for p in args["chatIds"]])

    async def data(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.GROUP_DATA)(str(args["groupId"]))

    async def rename(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.UPDATE_GROUP_NAME)
        return await method(str(args["groupId"]), str(args["groupName"]))

    def on_participant(name: str) -> Handler:
        async def handler(session: Session, args: dict[str, Any]) -> Any:
            method = optional(session, name)
            return await method(str(args["groupId"]), str(args["participantChatId"]))

        return handler

    async def leave(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.LEAVE_GROUP)(str(args["groupId"]))

    async def picture(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.SET_GROUP_PICTURE)
        f = args["file"]
        stored = StoredFile(f["key"], f["size"], f["sha256"], f["mimeType"], f["fileName"])
        return await method(str(args["groupId"]), stored)

    async def settings(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.UPDATE_GROUP_SETTINGS)
        return await method(
            str(args["groupId"]),
            members_edit=args.get("allowParticipantsEditGroupSettings"),
            members_send=args.get("allowParticipantsSendMessages"),
        )

    return {
        c.CREATE_GROUP: create,
        c.GROUP_DATA: data,
        c.UPDATE_GROUP_NAME: rename,
        **{name: on_participant(name) for name in _PARTICIPANT_CALLS},
        c.LEAVE_GROUP: leave,
        c.SET_GROUP_PICTURE: picture,
        c.UPDATE_GROUP_SETTINGS: settings,
    }
