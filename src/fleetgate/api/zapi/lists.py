"""What the Z-API chats, groups and contacts routes share: their paging, the phone and group
ids they take and show, and calls into the instance's engine."""

from __future__ import annotations

import re
from typing import Any

from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView, State
from fleetgate.errors import InvalidInput
from fleetgate.ids import CHAT_GROUP, is_digits, is_phone
from fleetgate.services import engine_calls

# Paging bounds (Z-API documents neither default nor maximum): page 1 is the first.
PAGE_MAX = 1_000_000
PAGE_SIZE_MAX = 1000
NOT_CONNECTED = "You are not connected."
_GROUP = re.compile(CHAT_GROUP)
GROUP_SUFFIX = "-group"


def window(page: str | None, page_size: str | None) -> tuple[int, int]:
    """(offset, limit) of ``page`` (1..PAGE_MAX) of ``pageSize`` (1..PAGE_SIZE_MAX) items;
    both are required integers."""
    number = _integer("page", page, PAGE_MAX)
    size = _integer("pageSize", page_size, PAGE_SIZE_MAX)
    return (number - 1) * size, size


def _integer(name: str, text: str | None, most: int) -> int:
    if text is None or text == "":
        raise InvalidInput(f"{name} is required")
    if not is_digits(text) or len(text) > 9 or not 1 <= int(text) <= most:
        raise InvalidInput(f"{name} must be an integer from 1 to {most}")
    return int(text)


def phone_chat(phone: str) -> str:
    """The chat id of a person's phone (digits with the country code)."""
    if not is_phone(phone):
        raise InvalidInput("phone must be 7 to 15 digits with the country code")
    return f"{phone}@c.us"


def group_chat(group: str, name: str = "groupId") -> str:
    """The chat id (``…@g.us``) of a group given as ``<id>-group``, ``<id>@g.us`` or bare
    digits."""
    bare = group.removesuffix(GROUP_SUFFIX).removesuffix("@g.us")
    if not _GROUP.fullmatch(bare):
        raise InvalidInput(f"{name} must be a group id: <id>-group, <id>@g.us or its digits")
    return f"{bare}@g.us"


def any_chat(phone: str) -> str:
    """The chat id of a ``phone`` that is a person's number or a group id."""
    if is_phone(phone):
        return f"{phone}@c.us"
    if phone.endswith(GROUP_SUFFIX) or phone.endswith("@g.us"):
        return group_chat(phone, "phone")
    raise InvalidInput("phone must be digits with the country code, or a group id (<id>-group)")


def shown(chat_id: str) -> str:
    """A chat id as Z-API shows it: a person's digits, or ``<id>-group``."""
    if chat_id.endswith("@g.us"):
        return chat_id.removesuffix("@g.us") + GROUP_SUFFIX
    return chat_id.removesuffix("@c.us")


async def call(ctx: Context, instance: InstanceView, method: str, args: dict[str, Any]) -> Any:
    """The engine session's answer to ``method``; only a connected account can be asked."""
    if instance.state != State.AUTHORIZED:
        raise InvalidInput(NOT_CONNECTED)
    return await engine_calls.call_engine(
        db=ctx.db, signals=ctx.signals, id_instance=instance.id_instance, method=method, args=args
    )
