"""Reactions and pins (fleetgate_whatsapp.pointers, through translate.outgoing): the
messageData fleetgate's own builders make (domain/chats.py, as the Z-API routes queue them)
become WhatsApp's reactionMessage and pinInChatMessage, keyed by the message pointed at; and
the send queue names that message by WhatsApp's id (services/messaging.with_remote_quotes),
on both databases."""

from __future__ import annotations

import time
from typing import Any

import pytest

from fleetgate.context import Context
from fleetgate.domain.chats import pin, poll_vote, reaction
from fleetgate.services import messaging
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import messages as messages_repo
from fleetgate_whatsapp import proto
from fleetgate_whatsapp.outgoing import SENDABLE
from fleetgate_whatsapp.translate import outgoing
from tests.support import Instance, MakeInstance

ME = "79001110000@c.us"
CHAT = "79001234567@c.us"
GROUP = "120363000000000001@g.us"
MEMBER = "79005550000@c.us"
TEXT = {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi"}}
PIN = proto.e2e.PinInChatMessage.Type


def _key(message: Any, part: str) -> tuple[str, bool, str, str]:
    key = getattr(message, part).key
    return key.remoteJID, key.fromMe, key.ID, key.participant


def test_a_reaction_to_the_other_persons_message_and_to_ours() -> None:
    before_ms = int(time.time() * 1000)
    theirs = outgoing(reaction("3EB0AA", CHAT, "👍"), chat_id=CHAT, me=ME).message
    assert _key(theirs, "reactionMessage") == ("79001234567@s.whatsapp.net", False, "3EB0AA", "")
    assert theirs.reactionMessage.text == "👍"
    assert theirs.reactionMessage.senderTimestampMS >= before_ms
    ours = outgoing(reaction("3EB0BB", ME, ""), chat_id=CHAT, me=ME).message
    assert _key(ours, "reactionMessage") == ("79001234567@s.whatsapp.net", True, "3EB0BB", "")
    # "" takes the reaction back: the field is sent, empty.
    assert ours.reactionMessage.HasField("text") and ours.reactionMessage.text == ""


def test_a_reaction_in_a_group_names_the_author_unless_it_is_the_account() -> None:
    member = outgoing(reaction("3EB0CC", MEMBER, "❤"), chat_id=GROUP, me=ME).message
    assert _key(member, "reactionMessage") == (
        "120363000000000001@g.us",
        False,
        "3EB0CC",
        "79005550000@s.whatsapp.net",
    )
    mine = outgoing(reaction("3EB0DD", ME, "❤"), chat_id=GROUP, me=ME).message
    assert _key(mine, "reactionMessage") == ("120363000000000001@g.us", True, "3EB0DD", "")


def test_a_pin_for_a_time_and_an_unpin() -> None:
    pinned = outgoing(
        pin("3EB0EE", CHAT, pinned=True, duration_s=604_800), chat_id=CHAT, me=ME
    ).message
    assert _key(pinned, "pinInChatMessage") == ("79001234567@s.whatsapp.net", False, "3EB0EE", "")
    assert pinned.pinInChatMessage.type == PIN.PIN_FOR_ALL
    assert pinned.messageContextInfo.messageAddOnDurationInSecs == 604_800
    unpinned = outgoing(pin("3EB0EE", ME, pinned=False, duration_s=0), chat_id=GROUP, me=ME)
    message = unpinned.message
    assert _key(message, "pinInChatMessage") == ("120363000000000001@g.us", True, "3EB0EE", "")
    assert message.pinInChatMessage.type == PIN.UNPIN_FOR_ALL
    assert not message.HasField("messageContextInfo")


@pytest.mark.parametrize(
    ("data", "chat_id", "why"),
    [
        (reaction("", CHAT, "👍"), CHAT, "stanzaId"),
        (reaction("3EB0AA", "", "👍"), GROUP, "participant"),
        (reaction("3EB0AA", "someone", "👍"), GROUP, "participant must be"),
        (reaction("3EB0AA", CHAT, "👍"), "not a chat", "chat id must be"),
        ({"typeMessage": "reactionMessage", "quotedMessage": {"stanzaId": "X"}}, CHAT, "emoji"),
        (
            {"typeMessage": "reactionMessage", "extendedTextMessageData": {"text": ""}},
            CHAT,
            "quotedMessage",
        ),
        (pin("3EB0EE", CHAT, pinned=True, duration_s=60), CHAT, "durationS"),
        ({"typeMessage": "pinMessage", "pinMessageData": {"action": "keep"}}, CHAT, "action"),
    ],
)
def test_what_cannot_be_pointed_at_is_refused_saying_why(
    data: dict[str, Any], chat_id: str, why: str
) -> None:
    with pytest.raises(ValueError, match=why):
        outgoing(data, chat_id=chat_id, me=ME)


def test_a_poll_vote_is_not_sendable() -> None:
    vote = poll_vote("3EB0FF", {"name": "Q", "options": [{"optionName": "A"}]}, ME, ["A"])
    assert "pollUpdateMessage" not in SENDABLE
    with pytest.raises(ValueError, match="cannot be sent"):
        outgoing(vote, chat_id=CHAT, me=ME)


async def _sent(ctx: Context, inst: Instance, remote_id: str) -> str:
    """Queue a text and record it sent under WhatsApp's ``remote_id``; fleetgate's id."""
    async with ctx.db.transaction() as session:
        view, _ = await instances_repo.current(session, inst.id) or (None, "")
        assert view is not None
        id_message = await messaging.enqueue(
            session=session, signals=ctx.signals, instance=view, chat_id=CHAT, message_data=TEXT
        )
    async with ctx.db.transaction() as session:
        message = await messages_repo.by_id(session, inst.id, id_message)
        assert message is not None
        await messaging.record_sent(
            session=session,
            signals=ctx.signals,
            instance=view,
            message=message,
            remote_id=remote_id,
        )
    return id_message


async def test_reactions_pins_and_votes_name_the_message_by_whatsapps_id(
    ctx: Context, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    ours = await _sent(ctx, inst, "3EB0FEEDFACE0002")
    poll = {"name": "Q", "options": [{"optionName": "A"}], "multipleAnswers": False}

    def pointing(stanza: str) -> list[dict[str, Any]]:
        return [
            reaction(stanza, ME, "👍"),
            pin(stanza, ME, pinned=True, duration_s=86_400),
            poll_vote(stanza, poll, ME, ["A"]),
        ]

    async with ctx.db.reading() as session:
        mapped = [
            await messaging.with_remote_quotes(session=session, id_instance=inst.id, data=d)
            for d in pointing(ours)
        ]
        unknown = [
            await messaging.with_remote_quotes(session=session, id_instance=inst.id, data=d)
            for d in pointing("3EB0ARRIVED")
        ]
    assert mapped == pointing("3EB0FEEDFACE0002")
    # A message fleetgate knows by WhatsApp's id already (one that arrived) keeps it.
    assert unknown == pointing("3EB0ARRIVED")
    assert [messaging.quoted_id(d) for d in pointing(ours)] == [ours] * 3
    assert messaging.quoted_id({"typeMessage": "pollMessage", "pollMessageData": poll}) is None
