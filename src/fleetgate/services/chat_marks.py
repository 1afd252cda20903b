"""What an instance marks on its chats besides archiving (Z-API modify-chat): pins, mutes,
read and unread marks, clearing and deleting, blocking; and the chat list that shows them.

The marks are settings of the account's own devices: the engine is told (an engine call) and
fleetgate keeps them, as it keeps archive flags (services/chats.py).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.chats import ChatOverview
from fleetgate.storage.repos import chat_marks as repo
from fleetgate.storage.repos import chats as chats_repo
from fleetgate.storage.repos import messages as messages_repo

# What modify-chat may do (api/zapi/chats_wire.py Action names the same).
ACTIONS = (
    "archive",
    "unarchive",
    "pin",
    "unpin",
    "mute",
    "unmute",
    "clear",
    "delete",
    "read",
    "unread",
)
# A mute without an end (Z-API's muteEndTime -1); modify-chat has no duration.
FOR_EVER = -1


async def chat_list(
    *,
    session: AsyncSession,
    id_instance: int,
    offset: int,
    limit: int,
    groups: bool | None = None,
    chat_ids: Sequence[str] | None = None,
) -> list[ChatOverview]:
    """One page of the chats with messages, pinned first, then the most recently active."""
    return await repo.overview(
        session, id_instance, offset=offset, limit=limit, groups=groups, chat_ids=chat_ids
    )


async def apply(*, session: AsyncSession, id_instance: int, chat_id: str, action: str) -> list[str]:
    """Set what ``action`` (one of ACTIONS) means on the chat; for ``read``, the ids of the
    incoming messages it marked read (their senders get read receipts)."""
    row = await chats_repo.chat_row(session, id_instance, chat_id)
    read: list[str] = []
    if action in ("archive", "unarchive"):
        row.archived = action == "archive"
    elif action in ("pin", "unpin"):
        row.pinned = action == "pin"
    elif action in ("mute", "unmute"):
        row.mute_until_ms = FOR_EVER if action == "mute" else None
    elif action in ("clear", "delete"):
        # Messages up to now are hidden; a deleted chat leaves the list until a new one comes.
        row.cleared_ms, row.unread_mark = now_ms(), False
        row.deleted = action == "delete"
        if row.deleted:
            row.archived = row.pinned = False
    elif action == "read":
        row.unread_mark = False
        read = await repo.unread_ids(session, id_instance, chat_id)
        if read:
            await messages_repo.mark_read(session, id_instance, read)
    elif action == "unread":
        row.unread_mark = True
    else:
        raise ValueError(action)
    await session.flush()
    return read


async def set_blocked(
    *, session: AsyncSession, id_instance: int, chat_id: str, blocked: bool
) -> None:
    """Keep whether the account blocked the contact."""
    row = await chats_repo.chat_row(session, id_instance, chat_id)
    row.blocked = blocked
    await session.flush()


async def cleared_ms(*, session: AsyncSession, id_instance: int, chat_id: str) -> int:
    """Until when the chat was cleared (its older messages are hidden); 0: never."""
    row = await repo.marks(session, id_instance, chat_id)
    return 0 if row is None else row.cleared_ms


async def address_book(*, session: AsyncSession, id_instance: int) -> dict[str, str]:
    """The instance's address book: chat id -> the contact's fields (JSON)."""
    return await repo.address_book(session, id_instance)
