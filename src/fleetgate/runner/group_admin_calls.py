"""The calls of engines/base.py GroupAdminSession and ChatMarkSession: optional session
methods, so an engine without them answers NOT_SUPPORTED (runner/calls.py passes its
``optional`` in)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fleetgate.engines.base import Session
from fleetgate.services import engine_calls as c

Handler = Callable[[Session, dict[str, Any]], Awaitable[Any]]
Lookup = Callable[[Session, str], Callable[..., Awaitable[Any]]]


def _flag(args: dict[str, Any], key: str) -> bool | None:
    value = args.get(key)
    return None if value is None else bool(value)


def handlers(optional: Lookup) -> dict[str, Handler]:
    """One handler per call, each fetching its session method with ``optional`` first."""

    async def metadata(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.GROUP_METADATA)(str(args["groupId"]))

    async def joined(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.JOINED_GROUPS)()

    async def describe(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.UPDATE_GROUP_DESCRIPTION)
        return await method(str(args["groupId"]), str(args["description"]))

    async def policy(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.UPDATE_GROUP_POLICY)
        return await method(
            str(args["groupId"]),
            members_add=_flag(args, "membersAdd"),
            approval=_flag(args, "approval"),
        )

    async def reset(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.RESET_GROUP_INVITE)(str(args["groupId"]))

    async def invite_info(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.GROUP_INVITE_INFO)(str(args["link"]))

    async def join(session: Session, args: dict[str, Any]) -> Any:
        return await optional(session, c.JOIN_GROUP)(str(args["link"]))

    async def decide(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.DECIDE_GROUP_REQUEST)
        return await method(
            str(args["groupId"]), str(args["participantChatId"]), approve=bool(args["approve"])
        )

    async def modify(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.MODIFY_CHAT)
        await method(str(args["chatId"]), action=str(args["action"]))
        return True

    async def block(session: Session, args: dict[str, Any]) -> Any:
        method = optional(session, c.BLOCK_CONTACT)
        await method(str(args["chatId"]), blocked=bool(args["blocked"]))
        return True

    return {
        c.GROUP_METADATA: metadata,
        c.JOINED_GROUPS: joined,
        c.UPDATE_GROUP_DESCRIPTION: describe,
        c.UPDATE_GROUP_POLICY: policy,
        c.RESET_GROUP_INVITE: reset,
        c.GROUP_INVITE_INFO: invite_info,
        c.JOIN_GROUP: join,
        c.DECIDE_GROUP_REQUEST: decide,
        c.MODIFY_CHAT: modify,
        c.BLOCK_CONTACT: block,
    }
