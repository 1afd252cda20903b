"""The Z-API callback bodies of group events and of answers to them (fleetgate's eventMessage
and eventResponseMessage), rendered from GREEN notifications: the cases the live tests
(tests/api/zapi/test_send_events.py) do not reach."""

from __future__ import annotations

from fleetgate.api import message_data
from fleetgate.services.zapi_callbacks import message_content
from tests.services.test_callbacks import GROUP, NOW, WID
from tests.services.test_zapi_actions import MEMBER, OWN, received

ZGROUP = GROUP.replace("@g.us", "-group")


def test_an_event_shows_its_fields_and_an_edit_is_the_event_again() -> None:
    first = message_data.event("Launch", 1_798_137_000, location="Office")
    body = received(first, group=True)
    assert body["event"] == {
        "name": "Launch",
        "description": "",
        "canceled": False,
        "joinLink": "",
        "scheduleTime": 1_798_137_000,
        "location": {"name": "Office"},
    }
    assert body["isEdit"] is False and body["participantPhone"] == MEMBER
    assert "text" not in body and "notification" not in body

    again = message_data.event("Launch", 1_798_137_000, canceled=True, edits="EV1")
    body = received(again, group=True)
    assert (body["isEdit"], body["messageId"]) == (True, "EV1")
    assert body["event"]["canceled"] is True and body["event"]["location"] == {}


def test_an_answer_names_who_answered_and_the_events_author() -> None:
    to_mine = message_data.event_response("EV1", WID, going=True)
    body = received(to_mine, group=True)
    assert body["eventResponse"] == {
        "response": "GOING",
        "responseFrom": MEMBER,
        "time": NOW,
        "referencedMessage": {
            "messageId": "EV1",
            "fromMe": True,
            "phone": ZGROUP,
            "participant": OWN,
        },
    }
    to_theirs = message_data.event_response("EV2", f"{MEMBER}@c.us", going=False)
    answer = received(to_theirs, group=True)["eventResponse"]
    assert answer["response"] == "NOT_GOING"
    assert answer["referencedMessage"]["fromMe"] is False
    assert answer["referencedMessage"]["participant"] == MEMBER


def test_without_data_or_envelope_events_still_render() -> None:
    assert message_content({"typeMessage": "eventMessage"})["event"]["name"] == ""
    content = message_content({"typeMessage": "eventResponseMessage"})
    assert content["eventResponse"]["response"] == ""
    assert content["eventResponse"]["referencedMessage"]["fromMe"] is False
