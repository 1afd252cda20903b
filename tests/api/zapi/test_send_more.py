"""Z-API's other sends (link, location, contact(s), poll, buttons, forward) through the
sandbox network on both databases: each answers the send triple and reaches a virtual phone
as the messageData its GREEN-API twin sends; bad input answers Z-API's error and queues
nothing."""

from __future__ import annotations

import pytest

from tests.api.zapi.instances import assert_error, green_queue, new_phone
from tests.api.zapi.pair import Json, Pair, pair_fixture, triple

pair = pair_fixture()


async def test_send_link_is_a_text_with_its_preview(pair: Pair) -> None:
    to = new_phone()
    url = "https://fleetgate.example/docs"
    sent = triple(await pair.z.send_link(to, f"Read {url}", url, linkType="LARGE", delayTyping=2))
    got = await pair.arrived(to, sent)
    assert got["typeMessage"] == "extendedTextMessage"
    ext = got["messageData"]["extendedTextMessageData"]
    assert ext["text"] == f"Read {url}"
    assert (ext["title"], ext["description"]) == ("A title", "A description")
    # A text without the link gets it at its end, where the preview belongs.
    other = triple(await pair.z.send_link(to, "Read this", url))
    got = await pair.arrived(to, other)
    assert got["messageData"]["extendedTextMessageData"]["text"] == f"Read this\n{url}"


@pytest.mark.parametrize(("lat", "lon"), [("-23.5505", "-46.6333"), (-23.5505, -46.6333)])
async def test_send_location_takes_strings_or_numbers(
    pair: Pair, lat: str | float, lon: str | float
) -> None:
    to = new_phone()
    sent = triple(await pair.z.send_location(to, lat, lon))
    got = await pair.arrived(to, sent)
    assert got["typeMessage"] == "locationMessage"
    location = got["messageData"]["locationMessageData"]
    assert (location["latitude"], location["longitude"]) == (-23.5505, -46.6333)
    assert (location["nameLocation"], location["address"]) == ("Office", "Main St 1")


async def test_send_contact_and_contacts_carry_vcards(pair: Pair) -> None:
    to = new_phone()
    one = triple(await pair.z.send_contact(to, "Ana", "5511999998888", delayMessage=1))
    got = await pair.arrived(to, one)
    assert got["typeMessage"] == "contactMessage"
    card = got["messageData"]["contactMessageData"]
    assert card["displayName"] == "Ana"
    assert "FN:Ana\n" in card["vcard"]
    assert "waid=5511999998888:+5511999998888" in card["vcard"]

    contacts = [
        {"name": "Ana", "phones": ["5511999998888"]},
        {"name": "Bo", "phones": ["5511777776666", "5511555554444"], "businessDescription": "Co"},
    ]
    many = triple(await pair.z.send_contacts(to, contacts))
    got = await pair.arrived(to, many)
    assert got["typeMessage"] == "contactsArrayMessage"
    cards = got["messageData"]["messageData"]["contacts"]
    assert [c["displayName"] for c in cards] == ["Ana", "Bo"]
    assert "waid=5511555554444" in cards[1]["vcard"] and "ORG:Co\n" in cards[1]["vcard"]


@pytest.mark.parametrize(("max_options", "multiple"), [(None, True), (0, True), (1, False)])
async def test_send_poll_reaches_the_phone(
    pair: Pair, max_options: int | None, multiple: bool
) -> None:
    to = new_phone()
    more = {} if max_options is None else {"pollMaxOptions": max_options}
    sent = triple(await pair.z.send_poll(to, "Lunch?", ["Yes", "No"], **more))
    got = await pair.arrived(to, sent)
    assert got["typeMessage"] == "pollMessage"
    assert got["messageData"]["pollMessageData"] == {
        "name": "Lunch?",
        "options": [{"optionName": "Yes"}, {"optionName": "No"}],
        "multipleAnswers": multiple,
    }


async def test_a_send_replies_to_a_message_of_the_chat(pair: Pair) -> None:
    phone = new_phone()
    asked = await pair.from_phone(phone, "where are you?")
    sent = triple(await pair.z.send_location(phone, "1.5", "2.5", messageId=asked))
    got = await pair.arrived(phone, sent)
    assert got["typeMessage"] == "locationMessage"
    assert got["messageData"]["quotedMessage"]["stanzaId"] == asked


async def test_button_list_and_button_actions_are_interactive_buttons(pair: Pair) -> None:
    to = new_phone()
    buttons = {"buttons": [{"id": "y", "label": "Yes"}, {"label": "No"}]}
    listed = triple(
        await pair.z.post(
            "send-button-list", {"phone": to, "message": "Ok?", "buttonList": buttons}
        )
    )
    got = await pair.arrived(to, listed)
    assert got["typeMessage"] == "interactiveButtonsReply"
    reply = got["messageData"]["interactiveButtonsReply"]
    assert reply["body"] == "Ok?"
    assert reply["buttons"] == [
        {"type": "reply", "buttonId": "y", "buttonText": "Yes"},
        {"type": "reply", "buttonId": "2", "buttonText": "No"},
    ]

    actions = [
        {"id": "c", "type": "CALL", "phone": "5511999998888", "label": "Call us"},
        {"type": "URL", "url": "https://fleetgate.example", "label": "Site"},
    ]
    body = {
        "phone": to,
        "message": "Reach us",
        "buttonActions": actions,
        "title": "Hi",
        "footer": "Bye",
    }
    acted = triple(await pair.z.post("send-button-actions", body))
    got = await pair.arrived(to, acted)
    assert got["typeMessage"] == "interactiveButtons"
    data = got["messageData"]["interactiveButtons"]
    assert (data["header"], data["body"], data["footer"]) == ("Hi", "Reach us", "Bye")
    assert data["buttons"] == [
        {"type": "call", "buttonId": "c", "buttonText": "Call us", "phoneNumber": "5511999998888"},
        {"type": "url", "buttonId": "2", "buttonText": "Site", "url": "https://fleetgate.example"},
    ]

    replies = [{"type": "REPLY", "label": "A"}, {"type": "REPLY", "id": "b", "label": "B"}]
    body = {"phone": to, "message": "Pick", "buttonActions": replies}
    picked = triple(await pair.z.post("send-button-actions", body))
    got = await pair.arrived(to, picked)
    assert got["typeMessage"] == "interactiveButtonsReply"


async def test_forward_message_copies_a_message_of_another_chat(pair: Pair) -> None:
    source, to = new_phone(), new_phone()
    original = await pair.from_phone(source, "pass it on")
    sent = triple(await pair.z.forward_message(to, original, source))
    assert sent != original
    got = await pair.arrived(to, sent)
    assert got["text"] == "pass it on"
    assert got["messageData"]["isForwarded"] is True


async def test_sends_to_a_group_are_queued_for_its_chat(pair: Pair) -> None:
    for phone in ("120363423529374305-group", "120363423529374305@g.us"):
        sent = triple(await pair.idle.send_poll(phone, "Lunch?", ["Yes", "No"]))
        count, queue = await green_queue(pair.http, pair.idle_green)
        assert count == 1 and queue[0]["messageID"] == sent
        assert queue[0]["body"]["chatId"] == "120363423529374305@g.us"
        r = await pair.http.get(pair.idle_green.url("clearMessagesQueue"))
        assert r.json() == {"isCleared": True}


PHONE = "5544999999999"
LINK = {
    "phone": PHONE,
    "message": "x https://a.example",
    "image": "https://a.example/i.png",
    "linkUrl": "https://a.example",
    "title": "t",
    "linkDescription": "d",
}
LOCATION = {"phone": PHONE, "title": "t", "address": "a", "latitude": "1", "longitude": "2"}
CONTACT = {"phone": PHONE, "contactName": "Ana", "contactPhone": "5511999998888"}
POLL = {"phone": PHONE, "message": "q?", "poll": [{"name": "a"}, {"name": "b"}]}
BUTTONS = {"phone": PHONE, "message": "m", "buttonList": {"buttons": [{"label": "A"}]}}
ACTIONS = {"phone": PHONE, "message": "m", "buttonActions": [{"type": "REPLY", "label": "A"}]}

BAD: list[tuple[str, Json]] = [
    ("send-link", LINK | {"linkUrl": "not a url"}),
    ("send-link", LINK | {"image": None}),
    ("send-link", LINK | {"linkType": "HUGE"}),
    ("send-link", LINK | {"delayTyping": 16}),
    ("send-link", LINK | {"phone": "12ab"}),
    ("send-location", LOCATION | {"latitude": "north"}),
    ("send-location", LOCATION | {"latitude": "91"}),
    ("send-location", LOCATION | {"longitude": -180.5}),
    ("send-location", LOCATION | {"longitude": "nan"}),
    ("send-location", LOCATION | {"latitude": True}),
    ("send-location", {"phone": PHONE, "latitude": "1", "longitude": "2"}),
    ("send-location", LOCATION | {"messageId": "NOSUCHMESSAGE"}),
    ("send-contact", CONTACT | {"contactPhone": "+55 11"}),
    ("send-contact", CONTACT | {"contactName": ""}),
    ("send-contact", CONTACT | {"contactPhone": 5511999998888}),
    ("send-contacts", {"phone": PHONE, "contacts": []}),
    ("send-contacts", {"phone": PHONE, "contacts": [{"name": "Ana", "phones": []}]}),
    ("send-poll", POLL | {"poll": [{"name": "a"}]}),
    ("send-poll", POLL | {"poll": [{"name": "a"}, {"name": "a"}]}),
    ("send-poll", POLL | {"poll": [{"name": "a"}] * 13}),
    ("send-poll", POLL | {"message": ""}),
    ("send-poll", POLL | {"pollMaxOptions": -1}),
    ("send-poll", POLL | {"phone": "abc-group"}),
    ("send-button-list", BUTTONS | {"buttonList": {"buttons": []}}),
    ("send-button-list", BUTTONS | {"buttonList": {"buttons": [{"label": "A"}] * 4}}),
    (
        "send-button-list",
        BUTTONS | {"buttonList": {"buttons": [{"label": "A"}], "image": "https://a.example/i.png"}},
    ),
    (
        "send-button-list",
        BUTTONS
        | {"buttonList": {"buttons": [{"id": "x", "label": "A"}, {"id": "x", "label": "B"}]}},
    ),
    ("send-button-actions", ACTIONS | {"buttonActions": [{"type": "CALL", "label": "A"}]}),
    ("send-button-actions", ACTIONS | {"buttonActions": [{"type": "URL", "label": "A"}]}),
    ("send-button-actions", ACTIONS | {"buttonActions": [{"type": "COPY", "label": "A"}]}),
    (
        "send-button-actions",
        ACTIONS
        | {
            "buttonActions": [
                {"type": "REPLY", "label": "A"},
                {"type": "URL", "url": "https://a.example", "label": "B"},
            ]
        },
    ),
    ("forward-message", {"phone": PHONE, "messageId": "NOSUCHMESSAGE", "messagePhone": PHONE}),
    ("forward-message", {"phone": PHONE, "messageId": "X"}),
    ("forward-message", {"phone": PHONE, "messageId": "X", "messagePhone": "x"}),
]


@pytest.mark.parametrize(("route", "body"), BAD, ids=[f"{r}-{n}" for n, (r, _) in enumerate(BAD)])
async def test_bad_input_answers_the_zapi_error_and_queues_nothing(
    pair: Pair, route: str, body: Json
) -> None:
    assert_error(await pair.idle.post(route, body), 400)
    await pair.queued_nothing()


async def test_the_same_bodies_made_good_are_queued(pair: Pair) -> None:
    """The bad bodies above fail for what they change, not for the rest of them."""
    for route, body in [
        ("send-link", LINK),
        ("send-location", LOCATION),
        ("send-contact", CONTACT),
        ("send-poll", POLL),
        ("send-button-list", BUTTONS),
        ("send-button-actions", ACTIONS),
    ]:
        triple(await pair.idle.post(route, body))
    count, queue = await green_queue(pair.http, pair.idle_green)
    assert count == 6
    assert [q["type"] for q in queue[:4]] == [
        "sendMessage",
        "sendLocation",
        "sendContact",
        "sendPoll",
    ]
    r = await pair.http.get(pair.idle_green.url("clearMessagesQueue"))
    assert r.json() == {"isCleared": True}


async def test_send_option_list_is_not_served(pair: Pair) -> None:
    body = {
        "phone": PHONE,
        "message": "m",
        "optionList": {
            "title": "t",
            "buttonLabel": "b",
            "options": [{"title": "o", "description": "d"}],
        },
    }
    assert_error(await pair.idle.post("send-option-list", body), 404)
    await pair.queued_nothing()
