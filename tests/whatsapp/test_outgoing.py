"""fleetgate_whatsapp.outgoing (through translate): what fleetgate's send queue hands the engine
becomes neonize's real waE2E messages; and, sent from our own phone, they come back as the same
messageData. The messageData are made by fleetgate's own GREEN-API request models."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from fleetgate.api.greenapi.sending_wire import (
    Contact,
    PollOption,
    SendContactBody,
    SendFileByUrlBody,
    SendLocationBody,
    SendMessageBody,
    SendPollBody,
)
from fleetgate_whatsapp import proto
from fleetgate_whatsapp.translate import Media, media_message, outgoing, received
from tests.whatsapp.events import message_ev, upload

E = proto.e2e
CHAT = "79001234567@c.us"
THUMB = b"\xff\xd8\xff\xe0tiny jpeg"
THUMB64 = base64.b64encode(THUMB).decode()
NOT_FORWARDED = {"forwardingScore": 0, "isForwarded": False}


def _text(message: str, **kw: Any) -> dict[str, Any]:
    return SendMessageBody(chatId=CHAT, message=message, **kw).message_data()


def _file(name: str, caption: str | None = None) -> dict[str, Any]:
    url = f"https://files.example.org/u/{name}"
    return SendFileByUrlBody(
        chatId=CHAT, urlFile=url, fileName=name, caption=caption
    ).message_data()


def _location() -> dict[str, Any]:
    body = SendLocationBody(
        chatId=CHAT,
        latitude=55.7558,
        longitude=37.6173,
        nameLocation="Red Square",
        address="Moscow",
    )
    return body.message_data()


def _contact() -> dict[str, Any]:
    card = Contact(phoneContact=79005550000, firstName="Bo", lastName="Li", company="Acme")
    return SendContactBody(chatId=CHAT, contact=card).message_data()


def _poll(multiple: bool) -> dict[str, Any]:
    options = [PollOption(optionName=n) for n in ("Soup", "Rice", "Tea")]
    return SendPollBody(
        chatId=CHAT, message="Lunch?", options=options, multipleAnswers=multiple
    ).message_data()


def _quoting(data: dict[str, Any], quoted: dict[str, Any]) -> dict[str, Any]:
    """A reply, shaped as api/sends.py quoting shapes it (the quoted message's
    own messageData under quotedMessage)."""
    text = data.get("textMessageData", {}).get("textMessage", "")
    who = "79005550000@c.us"
    return data | {
        "typeMessage": "quotedMessage" if text else data["typeMessage"],
        "extendedTextMessageData": {"text": text, "stanzaId": "3EB0QUOTED", "participant": who},
        "quotedMessage": {"stanzaId": "3EB0QUOTED", "participant": who, **quoted},
    }


def _forwarded(data: dict[str, Any]) -> dict[str, Any]:
    """As api/greenapi/sending.py's forwardMessages queues a message of the journal."""
    return data | {"isForwarded": True, "forwardingScore": 1}


def _echo(message: Any) -> dict[str, Any]:
    """The messageData of ``message`` arriving as sent from our own phone."""
    found = received(message_ev(message, from_me=True, id_message="3EB0SENT"))
    assert found is not None
    assert found.from_me
    return found.message_data


# --- texts ------------------------------------------------------------------------------------


def test_a_plain_text_is_a_conversation() -> None:
    out = outgoing(_text("hello"))
    assert out.message == E.Message(conversation="hello")
    assert (out.media, out.preview_url) == (None, "")
    assert _echo(out.message) == _text("hello")


def test_a_text_with_a_link_asks_the_client_for_its_preview() -> None:
    out = outgoing(_text("see https://example.org/a?b=1 now"))
    assert out.preview_url == "https://example.org/a?b=1"
    assert out.message == E.Message(
        extendedTextMessage=E.ExtendedTextMessage(
            text="see https://example.org/a?b=1 now", matchedText="https://example.org/a?b=1"
        )
    )
    # The client fills the preview; it arrives as GREEN-API's extended text.
    out.message.extendedTextMessage.title = "Example"
    assert (
        _echo(out.message)["extendedTextMessageData"]
        == {
            "text": "see https://example.org/a?b=1 now",
            "description": "",
            "title": "Example",
            "previewType": "None",
            "jpegThumbnail": "",
        }
        | NOT_FORWARDED
    )


def test_link_preview_off_sends_the_link_as_text() -> None:
    out = outgoing(_text("see https://example.org") | {"linkPreview": False})
    assert (out.message, out.preview_url) == (E.Message(conversation="see https://example.org"), "")
    with pytest.raises(ValueError, match="linkPreview must be true or false"):
        outgoing(_text("x") | {"linkPreview": "yes"})


def test_a_text_reply_quotes_the_message_for_the_recipients_phone() -> None:
    data = _quoting(_text("yes"), _text("lunch?"))
    context = outgoing(data).message.extendedTextMessage.contextInfo
    assert context == E.ContextInfo(
        stanzaID="3EB0QUOTED",
        participant="79005550000@s.whatsapp.net",
        quotedMessage=E.Message(conversation="lunch?"),
    )
    assert outgoing(data).message.extendedTextMessage.text == "yes"
    # It comes back as GREEN-API shows a reply (the quoted message flattened).
    assert _echo(outgoing(data).message) == {
        "typeMessage": "quotedMessage",
        "extendedTextMessageData": {
            "text": "yes",
            "stanzaId": "3EB0QUOTED",
            "participant": "79005550000@c.us",
        },
        "quotedMessage": {
            "stanzaId": "3EB0QUOTED",
            "participant": "79005550000@c.us",
            "typeMessage": "textMessage",
            "textMessage": "lunch?",
        },
    }


def test_a_reply_to_a_reply_as_received_green_api_form() -> None:
    received_reply = {
        "typeMessage": "quotedMessage",
        "extendedTextMessageData": {"text": "ok", "stanzaId": "3EB0Q", "participant": CHAT},
        "quotedMessage": {
            "stanzaId": "3EB0Q",
            "participant": CHAT,
            "typeMessage": "extendedTextMessage",
            "textMessage": "https://e.org",
            "extendedTextMessage": {"title": "E", "description": "", "previewType": "None"},
        },
    }
    context = outgoing(received_reply).message.extendedTextMessage.contextInfo
    assert (context.stanzaID, context.participant) == ("3EB0Q", "79001234567@s.whatsapp.net")
    assert context.quotedMessage == E.Message(conversation="https://e.org")


@pytest.mark.parametrize(
    ("quoted", "shown"),
    [
        (
            _location(),
            E.Message(
                locationMessage=E.LocationMessage(
                    degreesLatitude=55.7558,
                    degreesLongitude=37.6173,
                    name="Red Square",
                    address="Moscow",
                )
            ),
        ),
        # GREEN-API's flattened forms (a quote of a received message).
        (
            {"typeMessage": "locationMessage", "location": {"latitude": 1.5, "longitude": 2.5}},
            E.Message(locationMessage=E.LocationMessage(degreesLatitude=1.5, degreesLongitude=2.5)),
        ),
        (
            {"typeMessage": "contactMessage", "contact": {"displayName": "Bo", "vcard": "V"}},
            E.Message(contactMessage=E.ContactMessage(displayName="Bo", vcard="V")),
        ),
        (
            {
                "typeMessage": "contactsArrayMessage",
                "contacts": [{"displayName": "A", "vcard": "V"}],
            },
            E.Message(
                contactsArrayMessage=E.ContactsArrayMessage(
                    displayName="1 contacts",
                    contacts=[E.ContactMessage(displayName="A", vcard="V")],
                )
            ),
        ),
        (
            {
                "typeMessage": "imageMessage",
                "downloadUrl": "",
                "caption": "pic",
                "jpegThumbnail": THUMB64,
            },
            E.Message(imageMessage=E.ImageMessage(mimetype="", caption="pic", JPEGThumbnail=THUMB)),
        ),
        (
            _file("song.mp3") | {"typeMessage": "audioMessage"},
            E.Message(audioMessage=E.AudioMessage(mimetype="")),
        ),
        # Nothing to show (an unknown kind, a broken one): the reply goes out without it.
        ({"typeMessage": "reactionMessage"}, None),
        ({"typeMessage": "locationMessage", "location": {"latitude": "north"}}, None),
        ({"typeMessage": "imageMessage", "jpegThumbnail": "%%%"}, None),
    ],
)
def test_a_reply_shows_what_it_quotes(quoted: dict[str, Any], shown: Any) -> None:
    context = outgoing(_quoting(_text("this"), quoted)).message.extendedTextMessage.contextInfo
    assert context.stanzaID == "3EB0QUOTED"
    assert context.HasField("quotedMessage") == (shown is not None)
    if shown is not None:
        assert context.quotedMessage == shown


def test_a_location_reply_carries_the_quote_on_the_location() -> None:
    message = outgoing(_quoting(_location(), _text("where?"))).message
    assert message.locationMessage.contextInfo.stanzaID == "3EB0QUOTED"
    echo = _echo(message)
    assert echo["typeMessage"] == "locationMessage"
    assert echo["quotedMessage"] == {
        "stanzaId": "3EB0QUOTED",
        "participant": "79005550000@c.us",
        "typeMessage": "textMessage",
        "textMessage": "where?",
    }


def test_a_quoted_poll_carries_no_secret() -> None:
    context = outgoing(_quoting(_text("re"), _poll(False))).message.extendedTextMessage.contextInfo
    assert context.quotedMessage.pollCreationMessage.name == "Lunch?"
    assert not context.quotedMessage.HasField("messageContextInfo")


@pytest.mark.parametrize(
    ("quoted", "error"),
    [
        ("3EB0", "quotedMessage must be an object"),
        ({"participant": CHAT}, "quotedMessage.stanzaId must be the id"),
        ({"stanzaId": ""}, "quotedMessage.stanzaId must be the id"),
        ({"stanzaId": "Q", "participant": "120363000@g.us"}, "a participant must be"),
        ({"stanzaId": "Q", "participant": 7}, "quotedMessage.participant must be a string"),
    ],
)
def test_a_bad_quote_is_refused(quoted: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        outgoing(_text("x") | {"quotedMessage": quoted})


def test_a_quote_of_a_lid_participant_keeps_it() -> None:
    data = _text("x") | {"quotedMessage": {"stanzaId": "Q", "participant": "100200300@lid"}}
    assert outgoing(data).message.extendedTextMessage.contextInfo.participant == "100200300@lid"


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind", "mime"),
    [
        ("cat.jpg", "image", "image/jpeg"),
        ("clip.MP4", "video", "video/mp4"),
        ("voice.ogg", "audio", "audio/ogg"),
        ("song.mp3", "audio", "audio/mpeg"),
        ("report.pdf", "document", "application/pdf"),
        # (an extension no mime.types file names: .xyz is chemical/x-xyz on Debian)
        ("data.fleetgate-unknown", "document", "application/octet-stream"),
    ],
)
def test_a_file_message_is_media_to_upload(name: str, kind: str, mime: str) -> None:
    out = outgoing(_file(name, caption="look"))
    assert out.message is None
    assert out.media == Media(kind, mime, "look", name)
    assert out.media is not None and out.media.quoted_id == ""


def test_a_sticker_and_a_given_media_type() -> None:
    data = {
        "typeMessage": "stickerMessage",
        "fileMessageData": {"downloadUrl": "https://e.org/s?x=1", "mimeType": "image/webp"},
    }
    media = outgoing(data).media
    # The link is not used: the file's bytes come with the send, from the media store.
    assert media == Media("sticker", "image/webp", "", "")


def test_a_file_reply_keeps_the_quote_for_the_built_message() -> None:
    media = outgoing(_quoting(_file("cat.jpg"), _text("a cat?"))).media
    assert media is not None
    assert media.quoted_id == "3EB0QUOTED"
    built = media_message(media, upload(), now_s=1_796_619_000)
    assert built.imageMessage.contextInfo.quotedMessage == E.Message(conversation="a cat?")


@pytest.mark.parametrize(
    ("file", "error"),
    [
        ({"fileName": 5}, "fileMessageData.fileName must be a string"),
        ({"downloadUrl": "https://e.org/a.jpg", "caption": 5}, "fileMessageData.caption must be"),
        ("https://e.org/a.jpg", "fileMessageData must be an object"),
    ],
)
def test_a_bad_file_is_refused(file: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        outgoing({"typeMessage": "imageMessage", "fileMessageData": file})


def _built(name: str, caption: str | None = None, **kw: Any) -> Any:
    media = outgoing(_file(name, caption=caption)).media
    assert media is not None
    return media_message(media, upload(), now_s=1_796_619_000, **kw)


def test_an_uploaded_image_becomes_its_message() -> None:
    built = _built("cat.jpg", caption="a cat", thumbnail=THUMB)
    assert built == E.Message(
        imageMessage=E.ImageMessage(
            URL="https://mmg.whatsapp.net/o1/v/t62/f1.enc",
            directPath="/o1/v/t62/f1.enc",
            mediaKey=b"k" * 32,
            fileEncSHA256=b"e" * 32,
            fileSHA256=b"s" * 32,
            fileLength=1234,
            mediaKeyTimestamp=1_796_619_000,
            mimetype="image/jpeg",
            caption="a cat",
            JPEGThumbnail=THUMB,
        )
    )
    assert _echo(built) == {
        "typeMessage": "imageMessage",
        "fileMessageData": {
            "downloadUrl": "",
            "caption": "a cat",
            "fileName": "3EB0SENT.jpg",
            "jpegThumbnail": THUMB64,
            "mimeType": "image/jpeg",
        }
        | NOT_FORWARDED,
    }


def test_an_uploaded_document_video_audio_and_sticker() -> None:
    doc = _built("report.pdf", caption="Q3").documentMessage
    assert (doc.fileName, doc.title, doc.caption, doc.mimetype) == (
        "report.pdf",
        "report.pdf",
        "Q3",
        "application/pdf",
    )
    assert _echo(E.Message(documentMessage=doc))["fileMessageData"]["fileName"] == "report.pdf"
    video = _built("clip.mp4", mime_type="video/quicktime").videoMessage
    assert (video.mimetype, video.caption, video.HasField("caption")) == (
        "video/quicktime",
        "",
        False,
    )
    assert _built("voice.ogg").audioMessage.PTT is True  # plays as a voice note
    assert _built("song.mp3").audioMessage.PTT is False
    sticker = {
        "typeMessage": "stickerMessage",
        "fileMessageData": {"fileName": "s.webp"},
    }
    media = outgoing(sticker).media
    assert media is not None
    assert media_message(media, upload()).stickerMessage.mimetype == "image/webp"
    assert media_message(media, upload()).stickerMessage.mediaKeyTimestamp > 1_700_000_000


# --- locations, contacts, polls ---------------------------------------------------------------


def test_a_location() -> None:
    out = outgoing(_location())
    assert out.message == E.Message(
        locationMessage=E.LocationMessage(
            degreesLatitude=55.7558,
            degreesLongitude=37.6173,
            name="Red Square",
            address="Moscow",
        )
    )
    assert not out.message.locationMessage.HasField("JPEGThumbnail")  # none given: none sent
    data = _location()
    data["locationMessageData"] |= NOT_FORWARDED
    assert _echo(out.message) == data


@pytest.mark.parametrize("latitude", [91, -90.5, "55", True, None])
def test_a_bad_location_is_refused(latitude: Any) -> None:
    data = {
        "typeMessage": "locationMessage",
        "locationMessageData": {"latitude": latitude, "longitude": 0},
    }
    with pytest.raises(ValueError, match="latitude must be a number from -90 to 90"):
        outgoing(data)


def test_a_contact() -> None:
    out = outgoing(_contact())
    card = _contact()["contactMessageData"]
    assert out.message == E.Message(
        contactMessage=E.ContactMessage(displayName="Bo Li", vcard=card["vcard"])
    )
    assert "TEL;type=CELL;waid=79005550000:+79005550000" in out.message.contactMessage.vcard
    assert _echo(out.message) == {
        "typeMessage": "contactMessage",
        "contactMessageData": card | NOT_FORWARDED,
    }


def test_several_contacts() -> None:
    data = {
        "typeMessage": "contactsArrayMessage",
        "messageData": {
            "contacts": [{"displayName": "A", "vcard": "VA"}, {"displayName": "B", "vcard": "VB"}],
        },
    }
    out = outgoing(data)
    assert out.message.contactsArrayMessage == E.ContactsArrayMessage(
        displayName="2 contacts",
        contacts=[
            E.ContactMessage(displayName="A", vcard="VA"),
            E.ContactMessage(displayName="B", vcard="VB"),
        ],
    )
    data["messageData"] |= NOT_FORWARDED
    assert _echo(out.message) == data


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"typeMessage": "contactMessage", "contactMessageData": {"vcard": ""}}, "needs its vcard"),
        (
            {"typeMessage": "contactsArrayMessage", "messageData": {"contacts": []}},
            "list of contacts",
        ),
        (
            {"typeMessage": "contactsArrayMessage", "messageData": {"contacts": ["V"]}},
            "must be an object",
        ),
    ],
)
def test_a_bad_contact_is_refused(data: dict[str, Any], error: str) -> None:
    with pytest.raises(ValueError, match=error):
        outgoing(data)


@pytest.mark.parametrize("multiple", [False, True])
def test_a_poll_with_its_secret(multiple: bool) -> None:
    message = outgoing(_poll(multiple)).message
    assert message.pollCreationMessage == E.PollCreationMessage(
        name="Lunch?",
        options=[E.PollCreationMessage.Option(optionName=n) for n in ("Soup", "Rice", "Tea")],
        selectableOptionsCount=0 if multiple else 1,
    )
    secret = message.messageContextInfo.messageSecret
    assert len(secret) == 32
    assert outgoing(_poll(multiple)).message.messageContextInfo.messageSecret != secret
    assert _echo(message) == _poll(multiple)


@pytest.mark.parametrize(
    "poll",
    [
        {"name": "Q", "options": [{"optionName": "A"}]},
        {"name": "Q", "options": [{"optionName": "A"}, {"optionName": "A"}]},
        {"name": "Q", "options": [{"optionName": "A"}, {"optionName": ""}]},
        {"name": "Q", "options": [{"optionName": "A"}, "B"]},
        {"name": "", "options": [{"optionName": "A"}, {"optionName": "B"}]},
        {"name": "Q", "options": [{"optionName": "A"}, {"optionName": "B"}], "multipleAnswers": 1},
    ],
)
def test_a_bad_poll_is_refused(poll: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="a poll needs"):
        outgoing({"typeMessage": "pollMessage", "pollMessageData": poll})


def test_a_poll_without_options_is_refused() -> None:
    with pytest.raises(ValueError, match=r"pollMessageData\.options must be a list"):
        outgoing({"typeMessage": "pollMessage", "pollMessageData": {"name": "Q"}})


# --- forwards ---------------------------------------------------------------------------------


def test_a_forwarded_text_says_so_and_quotes_nothing() -> None:
    received_reply = {
        "typeMessage": "quotedMessage",
        "extendedTextMessageData": {"text": "ok", "stanzaId": "3EB0Q", "participant": CHAT},
        "quotedMessage": {"stanzaId": "3EB0Q", "participant": CHAT, "typeMessage": "textMessage"},
    }
    for data in (_text("hi"), received_reply):
        out = outgoing(_forwarded(data))
        context = out.message.extendedTextMessage.contextInfo
        assert context == E.ContextInfo(isForwarded=True, forwardingScore=1)
    echo = _echo(outgoing(_forwarded(_text("hi"))).message)
    assert echo["extendedTextMessageData"] | {} == {
        "text": "hi",
        "description": "",
        "title": "",
        "previewType": "None",
        "jpegThumbnail": "",
        "forwardingScore": 1,
        "isForwarded": True,
    }


def test_a_forwarded_preview_is_sent_as_it_was() -> None:
    data = {
        "typeMessage": "extendedTextMessage",
        "extendedTextMessageData": {
            "text": "https://e.org",
            "title": "E",
            "description": "d",
            "jpegThumbnail": THUMB64,
        },
    }
    out = outgoing(_forwarded(data))
    assert out.preview_url == ""
    ext = out.message.extendedTextMessage
    assert (ext.matchedText, ext.title, ext.description, ext.JPEGThumbnail) == (
        "https://e.org",
        "E",
        "d",
        THUMB,
    )


@pytest.mark.parametrize("data", [_location(), _contact(), _poll(True)])
def test_other_forwards_carry_the_mark(data: dict[str, Any]) -> None:
    message = outgoing(_forwarded(data)).message
    part = next(v for d, v in message.ListFields() if d.name != "messageContextInfo")
    assert part.contextInfo == E.ContextInfo(isForwarded=True, forwardingScore=1)


def test_a_forwarded_file_sent_or_received_is_media_to_upload() -> None:
    media = outgoing(_forwarded(_file("cat.jpg"))).media
    assert media is not None and media.context.isForwarded
    # A received one as the runner hands it on: its file (kept by fleetgate) comes with it.
    received = outgoing(_forwarded(_echo(_built("cat.jpg")))).media
    assert received is not None and received.context.isForwarded
    assert (received.kind, received.mime_type) == ("image", "image/jpeg")


@pytest.mark.parametrize("score", [0, -1, "1", True])
def test_a_bad_forwarding_score_is_refused(score: Any) -> None:
    with pytest.raises(ValueError, match="forwardingScore must be a positive integer"):
        outgoing(_text("x") | {"isForwarded": True, "forwardingScore": score})


# --- what cannot be sent ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "kind",
    [
        "editedMessage",
        "deletedMessage",
        "pollUpdateMessage",
        "groupInviteMessage",
        "x",
        None,
    ],
)
def test_an_unsendable_type_is_refused_clearly(kind: Any) -> None:
    with pytest.raises(
        ValueError,
        match=f"typeMessage {kind!r} cannot be sent: the whatsapp engine sends textMessage",
    ):
        outgoing({"typeMessage": kind})


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ([], "messageData must be an object"),
        ({"typeMessage": "textMessage"}, "textMessageData must be an object"),
        (
            {"typeMessage": "textMessage", "textMessageData": {"textMessage": 5}},
            "textMessageData.textMessage must be a string",
        ),
        ({"typeMessage": "textMessage", "textMessageData": {"textMessage": ""}}, "needs its text"),
        (
            {"typeMessage": "quotedMessage", "extendedTextMessageData": {}},
            "extendedTextMessageData.text must be",
        ),
        (
            {
                "typeMessage": "extendedTextMessage",
                "extendedTextMessageData": {"text": "t", "jpegThumbnail": "%"},
            },
            "jpegThumbnail must be base64",
        ),
    ],
)
def test_a_malformed_message_is_refused_clearly(data: Any, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        outgoing(data)
