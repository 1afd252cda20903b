"""The Z-API callback bodies of messages that act on other messages (reactions, poll votes,
pins, edits, deletions) and of contact cards, rendered from GREEN notifications: the cases
the live tests (tests/api/zapi/test_callbacks_actions.py) do not reach, such as groups."""

from __future__ import annotations

from typing import Any

from fleetgate.services.zapi_actions import contact_card
from fleetgate.services.zapi_callbacks import message_content
from tests.services.test_callbacks import (
    CHAT,
    GROUP,
    NOW,
    URL_A,
    WID,
    call,
    make_instance,
    message_fields,
)

OWN = WID.removesuffix("@c.us")
MEMBER = "79995550001"


def received(data: dict[str, Any], *, group: bool = False) -> dict[str, Any]:
    """The ReceivedCallback body of an incoming message (in a group, from MEMBER)."""
    instance = make_instance(callbacks={"received": URL_A})
    fields = (
        message_fields(chat_id=GROUP, sender=f"{MEMBER}@c.us", message_data=data)
        if group
        else message_fields(message_data=data)
    )
    [(_, _, body)] = call(instance, "incomingMessageReceived", fields)
    body_: dict[str, Any] = body
    return body_


def test_a_reaction_in_a_group_names_the_member_and_the_author() -> None:
    data = {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": "👍"},
        "quotedMessage": {"stanzaId": "M1", "participant": WID},
    }
    body = received(data, group=True)
    assert body["reaction"] == {
        "value": "👍",
        "time": NOW,
        "reactionBy": MEMBER,
        "referencedMessage": {
            "messageId": "M1",
            "fromMe": True,
            "phone": GROUP.replace("@g.us", "-group"),
            "participant": OWN,
        },
    }


def test_a_poll_vote_lists_the_voters_own_choices_only() -> None:
    data = {
        "typeMessage": "pollUpdateMessage",
        "pollMessageData": {
            "stanzaId": "P1",
            "name": "Lunch?",
            "votes": [
                {"optionName": "Yes", "optionVoters": [f"{MEMBER}@c.us", "79995550002@c.us"]},
                {"optionName": "No", "optionVoters": ["79995550002@c.us"]},
                {"optionName": "Later", "optionVoters": [f"{MEMBER}@c.us"]},
            ],
            "multipleAnswers": True,
        },
    }
    body = received(data, group=True)
    assert body["pollVote"] == {
        "pollMessageId": "P1",
        "options": [{"name": "Yes"}, {"name": "Later"}],
    }


def test_a_pin_names_its_message_and_duration() -> None:
    data = {
        "typeMessage": "pinMessage",
        "pinMessageData": {
            "stanzaId": "M2",
            "participant": CHAT,
            "action": "pin",
            "durationS": 86_400,
        },
    }
    body = received(data)
    assert body["pinMessage"] == {
        "action": "pin",
        "pinDurationInSecs": 86_400,
        "referencedMessage": {
            "messageId": "M2",
            "fromMe": False,
            "phone": CHAT.removesuffix("@c.us"),
            "participant": None,
        },
    }


def test_an_edit_and_a_deletion_point_at_their_message() -> None:
    edit = {
        "typeMessage": "editedMessage",
        "editedMessageData": {"textMessage": "v2", "stanzaId": "M3"},
    }
    body = received(edit)
    assert (body["isEdit"], body["messageId"], body["text"]) == (True, "M3", {"message": "v2"})
    revoke = {"typeMessage": "deletedMessage", "deletedMessageData": {"stanzaId": "M4"}}
    body = received(revoke)
    assert body["notification"] == "REVOKE"
    assert body["referenceMessageId"] == "M4"
    assert body["messageId"] == message_fields()["idMessage"]
    assert body["isEdit"] is False and "text" not in body


def test_without_an_envelope_the_actions_still_render() -> None:
    data = {"typeMessage": "reactionMessage", "extendedTextMessageData": {"text": "x"}}
    content = message_content(data)
    assert content["reaction"]["value"] == "x"
    assert content["reaction"]["referencedMessage"]["fromMe"] is False


def test_contact_cards_list_their_numbers() -> None:
    waid = "BEGIN:VCARD\nFN:Ana\nTEL;type=CELL;waid=5511999998888:+55 11 99999-8888\nEND:VCARD"
    assert contact_card({"displayName": "Ana", "vcard": waid})["phones"] == ["5511999998888"]
    plain = "BEGIN:VCARD\nFN:Bo\nTEL;TYPE=CELL:+55 11 7777-6666\nTEL:+1 555 0100\nEND:VCARD"
    assert contact_card({"displayName": "Bo", "vcard": plain})["phones"] == [
        "551177776666",
        "15550100",
    ]
    assert contact_card({}) == {"displayName": "", "vCard": "", "phones": []}


def test_several_contacts_give_the_first_as_contact_and_all_as_contacts() -> None:
    cards = [
        {"displayName": "Ana", "vcard": "TEL;waid=1111111:+1111111"},
        {"displayName": "Bo", "vcard": "TEL;waid=2222222:+2222222"},
    ]
    data = {"typeMessage": "contactsArrayMessage", "messageData": {"contacts": cards}}
    body = received(data)
    assert body["contact"] == {
        "displayName": "Ana",
        "vCard": cards[0]["vcard"],
        "phones": ["1111111"],
    }
    assert [c["phones"] for c in body["contacts"]] == [["1111111"], ["2222222"]]
    empty = message_content({"typeMessage": "contactsArrayMessage", "messageData": {}})
    assert empty == {"contact": {"displayName": "", "vCard": "", "phones": []}, "contacts": []}
