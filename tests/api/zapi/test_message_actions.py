"""Z-API actions on messages through the sandbox network on both databases: edits through
send-text's editMessageId, replies, reactions, poll votes, pins, deletion and read marks, each
seen on the other side (a virtual phone's inbox, or the sending instance's journal); bad
input answers Z-API's error and changes nothing."""

from __future__ import annotations

import pytest

from tests.api.zapi.instances import assert_error, new_phone
from tests.api.zapi.pair import Json, Pair, pair_fixture, triple
from tests.sending import eventually, inbox
from tests.support import until

pair = pair_fixture()

# --- send-text: edits and replies --------------------------------------------------------


async def test_edit_message_id_edits_the_text_at_the_phone(pair: Pair) -> None:
    to = new_phone()
    original = await pair.sent_text(to, "helo")
    r = await pair.z.send_text(to, "hello", editMessageId=original)
    assert triple(r) == original

    async def edited() -> Json | None:
        got = await inbox(pair.http, to, pair.token)
        item = next(m for m in got if m["idMessage"] == original)
        return item if item.get("isEdited") else None

    item = await eventually(edited, "the edit at the phone")
    assert item["text"] == "hello"
    journal = await pair.journaled(pair.green, f"{to}@c.us", original)
    assert journal["isEdited"] is True and journal["textMessage"] == "hello"


async def test_edits_of_what_cannot_be_edited_are_refused(pair: Pair) -> None:
    phone = new_phone()
    theirs = await pair.from_phone(phone, "not yours")
    for body in (
        {"phone": phone, "message": "x", "editMessageId": theirs},
        {"phone": phone, "message": "x", "editMessageId": "NOSUCHMESSAGE"},
        {"phone": new_phone(), "message": "x", "editMessageId": theirs},
        {"phone": phone, "message": "x", "editMessageId": ""},
    ):
        assert_error(await pair.z.post("send-text", body), 400)
    journal = await pair.journaled(pair.green, f"{phone}@c.us", theirs)
    assert "isEdited" not in journal
    assert [m["idMessage"] for m in await inbox(pair.http, phone, pair.token)] == []


async def test_send_text_with_message_id_replies(pair: Pair) -> None:
    phone = new_phone()
    asked = await pair.from_phone(phone, "ping?")
    answer = triple(await pair.z.send_text(phone, "pong", messageId=asked))
    got = await pair.arrived(phone, answer)
    assert got["messageData"]["quotedMessage"]["stanzaId"] == asked
    assert_error(await pair.z.send_text(new_phone(), "pong", messageId=asked), 400)


# --- reactions, votes, pins ----------------------------------------------------------------


async def test_a_reaction_and_its_removal_reach_the_phone(pair: Pair) -> None:
    phone = new_phone()
    theirs = await pair.from_phone(phone, "good news")
    reacted = triple(await pair.z.send_reaction(phone, theirs, "🎉"))
    got = await pair.arrived(phone, reacted)
    assert got["typeMessage"] == "reactionMessage"
    assert got["messageData"]["extendedTextMessageData"] == {"text": "🎉"}
    assert got["messageData"]["quotedMessage"] == {
        "stanzaId": theirs,
        "participant": f"{phone}@c.us",
    }
    removed = triple(await pair.z.send_remove_reaction(phone, theirs))
    got = await pair.arrived(phone, removed)
    assert got["typeMessage"] == "reactionMessage"
    assert got["messageData"]["extendedTextMessageData"] == {"text": ""}
    # A reaction to the instance's own message names the instance as the author.
    mine = await pair.sent_text(phone, "my own")
    reacted = triple(await pair.z.send_reaction(phone, mine, "👍"))
    got = await pair.arrived(phone, reacted)
    assert got["messageData"]["quotedMessage"]["participant"] == f"{pair.own}@c.us"


async def test_the_instance_votes_in_a_poll_it_received(pair: Pair) -> None:
    peer = pair.peer_phone
    options = [{"optionName": "Tea"}, {"optionName": "Coffee"}, {"optionName": "Water"}]
    single = await pair.from_peer("sendPoll", {"message": "Drink?", "options": options})
    voted = triple(await pair.z.send_poll_vote(peer, single, ["Coffee"]))
    # The peer instance got the vote as a message of the chat (GREEN-API pollUpdateMessage).
    vote = await pair.journaled(pair.peer, f"{pair.own}@c.us", voted)
    assert vote["typeMessage"] == "pollUpdateMessage"
    votes = vote["pollMessageData"]["votes"]
    assert vote["pollMessageData"]["stanzaId"] == single
    assert votes == [
        {"optionName": "Tea", "optionVoters": []},
        {"optionName": "Coffee", "optionVoters": [f"{pair.own}@c.us"]},
        {"optionName": "Water", "optionVoters": []},
    ]
    assert_error(await pair.z.send_poll_vote(peer, single, ["Tea", "Water"]), 400)

    body = {"message": "Drinks?", "options": options, "multipleAnswers": True}
    multiple = await pair.from_peer("sendPoll", body)
    voted = triple(await pair.z.send_poll_vote(peer, multiple, ["Tea", "Water"]))
    vote = await pair.journaled(pair.peer, f"{pair.own}@c.us", voted)
    chosen = [v["optionName"] for v in vote["pollMessageData"]["votes"] if v["optionVoters"]]
    assert chosen == ["Tea", "Water"]


async def test_pin_and_unpin_reach_the_phone(pair: Pair) -> None:
    phone = new_phone()
    theirs = await pair.from_phone(phone, "remember this")
    pinned = triple(await pair.z.pin_message(phone, theirs, "pin", "7_days"))
    got = await pair.arrived(phone, pinned)
    assert got["typeMessage"] == "pinMessage"
    assert got["messageData"]["pinMessageData"] == {
        "stanzaId": theirs,
        "participant": f"{phone}@c.us",
        "action": "pin",
        "durationS": 604_800,
    }
    unpinned = triple(await pair.z.pin_message(phone, theirs, "unpin", None))
    got = await pair.arrived(phone, unpinned)
    assert got["messageData"]["pinMessageData"]["action"] == "unpin"
    assert got["messageData"]["pinMessageData"]["durationS"] == 0


# --- deletion and read marks -------------------------------------------------------------


async def test_delete_for_everyone_reaches_the_phone(pair: Pair) -> None:
    to = new_phone()
    mine = await pair.sent_text(to, "oops")
    r = await pair.z.delete_message(to, mine, owner=True)
    assert (r.status_code, r.content) == (204, b""), r.text

    async def deleted() -> bool:
        got = await inbox(pair.http, to, pair.token)
        return any(m["idMessage"] == mine and m.get("isDeleted") for m in got)

    await until(deleted, "the deletion at the phone")
    journal = await pair.journaled(pair.green, f"{to}@c.us", mine)
    assert journal["isDeleted"] is True


async def test_delete_not_owned_deletes_on_the_instance_only(pair: Pair) -> None:
    phone = new_phone()
    theirs = await pair.from_phone(phone, "delete me here")
    r = await pair.z.delete_message(f"{phone}@c.us", theirs, owner=False)
    assert r.status_code == 204, r.text
    journal = await pair.journaled(pair.green, f"{phone}@c.us", theirs)
    assert journal["isDeleted"] is True
    # Nothing went to the phone: the instance never wrote to it.
    assert await inbox(pair.http, phone, pair.token) == []


async def test_read_message_sends_the_sender_a_read_receipt(pair: Pair) -> None:
    theirs = await pair.from_peer("sendMessage", {"message": "read me"})
    r = await pair.z.read_message(pair.peer_phone, theirs)
    assert (r.status_code, r.content) == (204, b""), r.text

    async def read_by_them() -> bool:
        # The peer instance wrote it: its journal shows it read.
        r = await pair.http.get(pair.peer.url("lastOutgoingMessages"))
        return any(m["idMessage"] == theirs and m["statusMessage"] == "read" for m in r.json())

    await until(read_by_them, "the read receipt at the sender")


BAD_ACTIONS: list[tuple[str, Json]] = [
    ("send-reaction", {"phone": "5544999999999", "messageId": "NOSUCHMESSAGE", "reaction": "👍"}),
    ("send-reaction", {"phone": "5544999999999", "messageId": "X", "reaction": ""}),
    ("send-reaction", {"phone": "5544999999999", "reaction": "👍"}),
    ("send-reaction", {"phone": "abc", "messageId": "X", "reaction": "👍"}),
    ("send-remove-reaction", {"phone": "5544999999999", "messageId": "NOSUCHMESSAGE"}),
    ("send-remove-reaction", {"phone": "5544999999999"}),
    ("send-poll-vote", {"phone": "5544999999999", "pollMessageId": "X", "pollVote": []}),
    (
        "send-poll-vote",
        {"phone": "5544999999999", "pollMessageId": "X", "pollVote": [{"name": "a"}]},
    ),
    (
        "send-poll-vote",
        {
            "phone": "5544999999999",
            "pollMessageId": "X",
            "pollVote": [{"name": "a"}, {"name": "a"}],
        },
    ),
    ("pin-message", {"phone": "5544999999999", "messageId": "X", "messageAction": "pin"}),
    ("pin-message", {"phone": "5544999999999", "messageId": "X", "messageAction": "stick"}),
    (
        "pin-message",
        {
            "phone": "5544999999999",
            "messageId": "X",
            "messageAction": "pin",
            "pinMessageDuration": "1_year",
        },
    ),
    (
        "pin-message",
        {"phone": "5544999999999", "messageId": "NOSUCH", "messageAction": "unpin"},
    ),
    ("read-message", {"phone": "5544999999999"}),
    ("read-message", {"phone": "5544999999999", "messageId": "NOSUCHMESSAGE"}),
]


@pytest.mark.parametrize(
    ("route", "body"), BAD_ACTIONS, ids=[f"{r}-{n}" for n, (r, _) in enumerate(BAD_ACTIONS)]
)
async def test_bad_actions_answer_the_zapi_error_and_queue_nothing(
    pair: Pair, route: str, body: Json
) -> None:
    assert_error(await pair.idle.post(route, body), 400)
    await pair.queued_nothing()


async def test_actions_on_messages_of_the_wrong_kind_are_refused(pair: Pair) -> None:
    phone = new_phone()
    text = await pair.from_phone(phone, "not a poll")
    assert_error(await pair.z.send_poll_vote(phone, text, ["a"]), 400)
    poll = await pair.from_peer(
        "sendPoll", {"message": "Q?", "options": [{"optionName": "a"}, {"optionName": "b"}]}
    )
    assert_error(await pair.z.send_poll_vote(pair.peer_phone, poll, ["c"]), 400)
    # The poll is of the peer's chat, not of this phone's.
    assert_error(await pair.z.send_poll_vote(phone, poll, ["a"]), 400)
    assert_error(await pair.z.send_reaction(new_phone(), text, "👍"), 400)
    assert await inbox(pair.http, phone, pair.token) == []


@pytest.mark.parametrize(
    "params",
    [
        {"phone": "5544999999999", "owner": "true"},
        {"messageId": "X", "owner": "true"},
        {"messageId": "X", "phone": "5544999999999"},
        {"messageId": "X", "phone": "5544999999999", "owner": "maybe"},
        {"messageId": "X", "phone": "abc", "owner": "true"},
        {"messageId": "NOSUCHMESSAGE", "phone": "5544999999999", "owner": "true"},
        {"messageId": "X\x00Y", "phone": "5544999999999", "owner": "true"},
        {"messageId": "X" * 65, "phone": "5544999999999", "owner": "false"},
    ],
)
async def test_bad_deletions_answer_the_zapi_error(pair: Pair, params: dict[str, str]) -> None:
    assert_error(await pair.z.delete("messages", **params), 400)


async def test_a_deletion_leaves_other_messages_alone(pair: Pair) -> None:
    to = new_phone()
    keep = await pair.sent_text(to, "keep")
    assert_error(await pair.z.delete_message(new_phone(), keep, owner=True), 400)
    journal = await pair.journaled(pair.green, f"{to}@c.us", keep)
    assert "isDeleted" not in journal
    assert not any(m.get("isDeleted") for m in await inbox(pair.http, to, pair.token))
