"""What a virtual phone does to messages and chats besides writing (api/sandbox_chats.py):
edit and delete its own messages, react, vote, call, block; and what it sees of others.

Same rules as services/sandbox_phones.py: only the partner holding a number acts as it, and
everything runs in the caller's transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.chats import CallStatus, deleted, edited
from fleetgate.domain.partners import Partner
from fleetgate.engines.sandbox import chats
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import new_message_id
from fleetgate.services.sandbox_phones import claim, post
from fleetgate.storage.signals import Signals

NO_MESSAGE = "no such message in this chat"
# How a phone can end a call it placed: answered, hung up before an answer, declined, missed.
CALL_OUTCOMES = ("pickUp", "hangUp", "declined", "missed")
_TEXT_TYPES = ("textMessage", "extendedTextMessage", "quotedMessage")


async def _message(
    session: AsyncSession, phone: str, other: str, id_message: str
) -> tuple[str, dict[str, Any]]:
    found = await chats.message_between(session, phone, other, id_message)
    if found is None:
        raise NotFound(NO_MESSAGE)
    return found


async def edit(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    other: str,
    id_message: str,
    text: str,
) -> str:
    """The phone edits a text it sent to ``other``; the edit's idMessage."""
    await claim(session=session, partner=partner, phone=phone)
    author, payload = await _message(session, phone, other, id_message)
    if author != phone or payload["messageData"].get("typeMessage") not in _TEXT_TYPES:
        raise InvalidInput("a phone edits only text messages it sent")
    return await post(session, signals, phone, other, edited(id_message, text))


async def delete(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    other: str,
    id_message: str,
) -> str:
    """The phone deletes a message it sent to ``other``, for everyone; the deletion's id."""
    await claim(session=session, partner=partner, phone=phone)
    author, _ = await _message(session, phone, other, id_message)
    if author != phone:
        raise InvalidInput("a phone deletes for everyone only messages it sent")
    return await post(session, signals, phone, other, deleted(id_message))


async def react(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    other: str,
    id_message: str,
    emoji: str,
) -> str:
    """The phone reacts to a message of its chat with ``other`` ("" takes it back)."""
    await claim(session=session, partner=partner, phone=phone)
    author, _ = await _message(session, phone, other, id_message)
    return await post(session, signals, phone, other, chats.reaction(id_message, author, emoji))


async def vote(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    other: str,
    id_message: str,
    options: list[str],
) -> str:
    """The phone votes in a poll it received from ``other`` ([] takes its vote back)."""
    await claim(session=session, partner=partner, phone=phone)
    author, payload = await _message(session, phone, other, id_message)
    poll = payload["messageData"].get("pollMessageData")
    if author != other or not isinstance(poll, dict):
        raise InvalidInput("idMessage must be a poll the phone received in this chat")
    names = {o["optionName"] for o in poll.get("options", [])}
    if not set(options) <= names:
        raise InvalidInput("options must be option names of the poll")
    if len(options) > 1 and not poll.get("multipleAnswers"):
        raise InvalidInput("this poll takes one answer")
    return await post(session, signals, phone, other, chats.vote(id_message, poll, phone, options))


async def call(
    *,
    session: AsyncSession,
    signals: Signals,
    partner: Partner,
    phone: str,
    other: str,
    outcome: str,
    is_video: bool,
) -> str:
    """The phone calls ``other``: it rings (offer), then ends as ``outcome``; the call's id.
    A missed call ends as declined, as GREEN-API reports missed calls now."""
    await claim(session=session, partner=partner, phone=phone)
    if outcome not in CALL_OUTCOMES:
        raise InvalidInput(f"outcome must be one of {', '.join(CALL_OUTCOMES)}")
    end = CallStatus.DECLINED if outcome == "missed" else CallStatus(outcome)
    id_call = new_message_id()
    for status in (CallStatus.OFFER, end):
        await chats.post_call(
            session,
            signals,
            from_phone=phone,
            to_phone=other,
            id_call=id_call,
            status=status,
            is_video=is_video,
        )
    return id_call


async def block(
    *, session: AsyncSession, signals: Signals, partner: Partner, phone: str, other: str
) -> None:
    """The phone blocks ``other``."""
    await claim(session=session, partner=partner, phone=phone)
    await chats.post_block(session, signals, from_phone=phone, to_phone=other)


async def conversation(*, session: AsyncSession, phone: str, limit: int) -> list[chats.ChatLine]:
    """The newest messages the phone received or sent, oldest first (the caller checked the
    phone is the partner's)."""
    return await chats.messages_of(session, phone, limit=limit)


async def presence_seen(*, session: AsyncSession, phone: str) -> dict[str, str]:
    """What the phone last saw in each of its chats: typing, recording, online, ..."""
    return await chats.presence_seen(session, phone)
