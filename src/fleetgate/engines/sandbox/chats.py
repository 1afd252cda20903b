"""What phones do to messages and chats on the sandbox network besides sending them: edit,
delete, react, vote, call, block.

Edits, deletions, reactions and votes travel as messages of their own (GREEN-API's
editedMessage, deletedMessage, reactionMessage and pollUpdateMessage data), so every receiver
takes them in as it takes in messages; calls and blocks are events of their own kinds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain import chats as domain_chats
from fleetgate.engines.sandbox.network import MESSAGE, PRESENCE, post_event
from fleetgate.storage.signals import Signals
from fleetgate.storage.tables import SandboxEventRow

CALL = "call"
BLOCK = "block"
# Message types that change another message rather than being one to show.
CHANGES = ("editedMessage", "deletedMessage")


async def message_between(
    session: AsyncSession, phone: str, other: str, id_message: str
) -> tuple[str, dict[str, Any]] | None:
    """(author phone, payload) of a message of the chat of ``phone`` and ``other``."""
    E = SandboxEventRow
    row = (
        await session.execute(
            select(E.from_phone, E.payload)
            .where(
                E.kind == MESSAGE,
                E.id_message == id_message,
                or_(
                    and_(E.from_phone == phone, E.to_phone == other),
                    and_(E.from_phone == other, E.to_phone == phone),
                ),
            )
            .limit(1)
        )
    ).first()
    return None if row is None else (row[0], orjson.loads(row[1]))


@dataclass(frozen=True)
class ChatLine:
    """One message a phone sent or received: who wrote it to whom, and its payload (JSON)."""

    from_phone: str
    to_phone: str
    id_message: str
    payload: str
    at_ms: int


async def messages_of(session: AsyncSession, phone: str, *, limit: int) -> list[ChatLine]:
    """The newest messages ``phone`` received or sent, oldest first. What it wrote to a group
    shows once, though the network holds one copy of it for each member."""
    E = SandboxEventRow
    rows = await session.execute(
        select(E.from_phone, E.to_phone, E.id_message, E.payload, E.at_ms)
        .where(E.kind == MESSAGE, or_(E.to_phone == phone, E.from_phone == phone))
        .order_by(E.id.desc())
        .limit(limit)
    )
    lines: list[ChatLine] = []
    sent: set[str] = set()
    for row in reversed(rows.all()):
        line = ChatLine(*row)
        if line.from_phone == phone:
            if line.id_message in sent:
                continue
            sent.add(line.id_message)
        lines.append(line)
    return lines


def reaction(id_message: str, author: str, emoji: str) -> dict[str, Any]:
    """A reaction to a message of ``author`` (``emoji`` "" takes a reaction back)."""
    return domain_chats.reaction(id_message, f"{author}@c.us", emoji)


def vote(id_message: str, poll: dict[str, Any], voter: str, chosen: list[str]) -> dict[str, Any]:
    """A poll's tally after ``voter`` chose ``chosen`` (in a chat of two, the only voter)."""
    return domain_chats.poll_vote(id_message, poll, f"{voter}@c.us", chosen)


async def post_call(
    session: AsyncSession,
    signals: Signals,
    *,
    from_phone: str,
    to_phone: str,
    id_call: str,
    status: str,
    is_video: bool,
) -> None:
    """``from_phone``'s call to ``to_phone`` rings (offer) or ends (pickUp, hangUp, ...)."""
    payload = {"status": status, "isVideo": is_video}
    await post_event(session, signals, CALL, from_phone, to_phone, id_call, payload)


async def post_block(
    session: AsyncSession, signals: Signals, *, from_phone: str, to_phone: str
) -> None:
    """``from_phone`` blocks ``to_phone``."""
    await post_event(session, signals, BLOCK, from_phone, to_phone, "", {"chatState": "blocked"})


async def presence_seen(session: AsyncSession, phone: str) -> dict[str, str]:
    """The last presence each chat partner showed ``phone`` (typing, recording, ...)."""
    E = SandboxEventRow
    rows = await session.execute(
        select(E.from_phone, E.payload)
        .where(E.to_phone == phone, E.kind == PRESENCE)
        .order_by(E.id)
    )
    return {f"{r[0]}@c.us": str(orjson.loads(r[1])["status"]) for r in rows}
