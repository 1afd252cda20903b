"""fleetgate_whatsapp.translate: neonize's real protobuf events and messages <-> fleetgate's terms.

The classes are neonize's generated ones, loaded without neonize (proto.py): the first tests
check, in fresh interpreters, that this keeps the Go library out and that neonize, imported
later or earlier, uses the very same classes.
"""

from __future__ import annotations

import base64
import hashlib
import re
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.sandbox.network import PRESENCES
from fleetgate_whatsapp import proto
from fleetgate_whatsapp.client import Received
from fleetgate_whatsapp.translate import (
    Poll,
    chat_id_of,
    chat_presence,
    jid_of,
    poll_of,
    poll_update,
    presence,
    receipt_status,
    received,
)
from tests.whatsapp.events import (
    GROUP,
    ME,
    PEER,
    T_MS,
    chat_presence_ev,
    jid,
    message_ev,
    presence_ev,
    receipt_ev,
)

E = proto.e2e
THUMB = b"\xff\xd8\xff\xe0tiny jpeg"
THUMB64 = base64.b64encode(THUMB).decode()
NOT_FORWARDED = {"forwardingScore": 0, "isForwarded": False}


def _run(code: str) -> str:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


# --- loading the classes ----------------------------------------------------------------------


def test_translate_loads_no_go_library_and_neonize_later_shares_the_classes() -> None:
    out = _run(
        """
        import logging, sys, threading
        path = list(sys.path)
        from fleetgate_whatsapp import proto, translate
        assert "neonize" not in sys.modules
        assert "neonize-linux" not in open("/proc/self/maps").read()
        assert threading.active_count() == 1
        assert not logging.getLogger().handlers
        assert sys.path == path
        import neonize.events, neonize.proto.Neonize_pb2 as N
        from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E2E
        from neonize.proto.waCommon import WACommon_pb2 as C
        from neonize.utils.jid import build_jid
        assert "neonize-linux" in open("/proc/self/maps").read()  # the check above can see it
        assert neonize.events.MessageEv is proto.MessageEv
        assert neonize.events.ReceiptEv is proto.ReceiptEv
        assert N.ChatPresence is proto.ChatPresenceEv and N.Presence is proto.PresenceEv
        assert N.JID is proto.JID and N.UploadResponse is proto.UploadResponse
        assert E2E.Message is proto.Message and C.MessageKey is proto.MessageKey
        for chat, user, server in (("79001234567@c.us", "79001234567", "s.whatsapp.net"),
                                   ("120363012345678901@g.us", "120363012345678901", "g.us")):
            ours = translate.jid_of(chat)
            assert ours.SerializeToString() == build_jid(user, server).SerializeToString()
        print("shared")
        """
    )
    assert out.strip() == "shared"


def test_neonize_first_then_translate_shares_the_classes() -> None:
    out = _run(
        """
        import neonize.events
        from neonize.proto.waE2E import WAWebProtobufsE2E_pb2 as E2E
        from fleetgate_whatsapp import proto, translate
        assert neonize.events.MessageEv is proto.MessageEv
        assert E2E.ContextInfo is proto.ContextInfo
        ev = proto.MessageEv(Message=proto.Message(conversation="hi"))
        assert isinstance(ev, neonize.events.MessageEv)
        print("shared")
        """
    )
    assert out.strip() == "shared"


# --- chat ids ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "alt", "chat_id"),
    [
        (PEER, None, "79001234567@c.us"),
        (ME, None, "79990000000@c.us"),  # the device part dropped
        ("79990000000.1:12@s.whatsapp.net", None, "79990000000@c.us"),  # and the agent
        (GROUP, None, GROUP),
        ("123456789-1600000000@g.us", None, "123456789-1600000000@g.us"),  # an old group id
        ("100200300400500@lid", PEER, "79001234567@c.us"),  # a LID with its phone beside it
        ("100200300400500@lid", None, "100200300400500@lid"),
        ("100200300400500@lid", "", "100200300400500@lid"),  # Go's empty JID as the alt
        ("100200300400500@lid", "555@lid", "100200300400500@lid"),
        ("79001234567@c.us", None, "79001234567@c.us"),
        ("79001234567:99@hosted", None, "79001234567@c.us"),
    ],
)
def test_chat_id_of(given: str, alt: str | None, chat_id: str) -> None:
    alt_jid = None if alt is None else jid(alt)
    assert chat_id_of(jid(given), alt_jid) == chat_id  # the protobuf JID
    assert chat_id_of(given, alt) == chat_id  # and its text form


@pytest.mark.parametrize(
    "given", ["status@broadcast", "120363000000@newsletter", "", "abc@s.whatsapp.net", "g.us"]
)
def test_chat_id_of_refuses_chats_fleetgate_does_not_name(given: str) -> None:
    with pytest.raises(ValueError, match="no fleetgate chat id"):
        chat_id_of(jid(given) if "@" in given or not given else given)


def test_jid_of_sets_every_field() -> None:
    phone = jid_of("79001234567@c.us")
    assert [f.name for f, _ in phone.ListFields()] == [
        "User",
        "RawAgent",
        "Device",
        "Integrator",
        "Server",
        "IsEmpty",
    ]
    assert (phone.User, phone.Server, phone.Device, phone.IsEmpty) == (
        "79001234567",
        "s.whatsapp.net",
        0,
        False,
    )
    group = jid_of("123456789-1600000000@g.us")
    assert (group.User, group.Server) == ("123456789-1600000000", "g.us")
    assert chat_id_of(jid_of(GROUP)) == GROUP


@pytest.mark.parametrize(
    "bad", ["", "79001234567", "79001234567@s.whatsapp.net", "abc@c.us", "1@c.us", "5@lid", "@g.us"]
)
def test_jid_of_refuses_bad_chat_ids(bad: str) -> None:
    with pytest.raises(
        ValueError, match=re.escape("must be <phone digits>@c.us or <group id>@g.us")
    ):
        jid_of(bad)


# --- received messages ------------------------------------------------------------------------


def _data(content: Any, **kw: Any) -> dict[str, Any]:
    found = received(message_ev(content, **kw))
    assert found is not None
    return found.message_data


def test_a_text_arrives_with_its_chat_sender_name_and_time() -> None:
    found = received(message_ev(E.Message(conversation="hello"), push_name="Ann"))
    assert found == Received(
        id_message="3EB0ABCDEF0123456789",
        chat_id="79001234567@c.us",
        sender="79001234567@c.us",
        sender_name="Ann",
        timestamp_s=T_MS // 1000,
        from_me=False,
        message_data={"typeMessage": "textMessage", "textMessageData": {"textMessage": "hello"}},
    )


def test_a_message_from_the_own_phone_is_from_me_in_the_peers_chat() -> None:
    found = received(message_ev(E.Message(conversation="sent"), from_me=True))
    assert found is not None
    assert (found.chat_id, found.sender, found.from_me) == (
        "79001234567@c.us",
        "79990000000@c.us",
        True,
    )


def test_a_group_message_names_its_author_by_phone_even_under_a_lid() -> None:
    found = received(
        message_ev(
            E.Message(conversation="hi all"),
            chat=GROUP,
            sender="100200300400500:3@lid",
            sender_alt=PEER,
        )
    )
    assert found is not None
    assert (found.chat_id, found.sender) == (GROUP, "79001234567@c.us")


def test_a_private_chat_under_a_lid_is_named_by_phone() -> None:
    lid = "100200300400500@lid"
    incoming = received(message_ev(E.Message(conversation="x"), chat=lid, sender_alt=PEER))
    assert incoming is not None
    assert (incoming.chat_id, incoming.sender) == ("79001234567@c.us", "79001234567@c.us")
    sent = received(
        message_ev(E.Message(conversation="x"), chat=lid, from_me=True, recipient_alt=PEER)
    )
    assert sent is not None
    assert (sent.chat_id, sent.sender) == ("79001234567@c.us", "79990000000@c.us")


def test_a_plain_extended_text_arrives_as_a_text() -> None:
    assert _data(E.Message(extendedTextMessage=E.ExtendedTextMessage(text="plain"))) == {
        "typeMessage": "textMessage",
        "textMessageData": {"textMessage": "plain"},
    }


def test_a_text_with_a_link_preview_is_an_extended_text() -> None:
    ext = E.ExtendedTextMessage(
        text="see https://example.org/a",
        matchedText="https://example.org/a",
        title="Example",
        description="An example page",
        JPEGThumbnail=THUMB,
    )
    assert _data(E.Message(extendedTextMessage=ext)) == {
        "typeMessage": "extendedTextMessage",
        "extendedTextMessageData": {
            "text": "see https://example.org/a",
            "description": "An example page",
            "title": "Example",
            "previewType": "None",
            "jpegThumbnail": THUMB64,
            "forwardingScore": 0,
            "isForwarded": False,
        },
    }


def test_a_forwarded_text_says_so() -> None:
    context = E.ContextInfo(isForwarded=True, forwardingScore=3)
    ext = E.ExtendedTextMessage(text="fwd", contextInfo=context)
    assert _data(E.Message(extendedTextMessage=ext))["extendedTextMessageData"] == {
        "text": "fwd",
        "description": "",
        "title": "",
        "previewType": "None",
        "jpegThumbnail": "",
        "forwardingScore": 3,
        "isForwarded": True,
    }


def _reply(quoted: Any, participant: str = PEER, stanza: str = "3EB0QUOTED") -> Any:
    return E.ContextInfo(stanzaID=stanza, participant=participant, quotedMessage=quoted)


def test_a_text_reply_is_a_quoted_message() -> None:
    ext = E.ExtendedTextMessage(text="yes", contextInfo=_reply(E.Message(conversation="ok?")))
    assert _data(E.Message(extendedTextMessage=ext)) == {
        "typeMessage": "quotedMessage",
        "extendedTextMessageData": {
            "text": "yes",
            "stanzaId": "3EB0QUOTED",
            "participant": "79001234567@c.us",
        },
        "quotedMessage": {
            "stanzaId": "3EB0QUOTED",
            "participant": "79001234567@c.us",
            "typeMessage": "textMessage",
            "textMessage": "ok?",
        },
    }


@pytest.mark.parametrize(
    ("quoted", "shown"),
    [
        (
            E.Message(
                extendedTextMessage=E.ExtendedTextMessage(
                    text="https://e.org", matchedText="https://e.org", title="E"
                )
            ),
            {
                "typeMessage": "extendedTextMessage",
                "textMessage": "https://e.org",
                "extendedTextMessage": {
                    "description": "",
                    "title": "E",
                    "previewType": "None",
                    "jpegThumbnail": "",
                },
            },
        ),
        (
            E.Message(
                imageMessage=E.ImageMessage(
                    mimetype="image/jpeg", caption="pic", JPEGThumbnail=THUMB
                )
            ),
            {
                "typeMessage": "imageMessage",
                "downloadUrl": "",
                "caption": "pic",
                "jpegThumbnail": THUMB64,
            },
        ),
        (
            E.Message(stickerMessage=E.StickerMessage(mimetype="image/webp", isAnimated=True)),
            {
                "typeMessage": "stickerMessage",
                "downloadUrl": "",
                "caption": "",
                "jpegThumbnail": "",
                "isAnimated": True,
            },
        ),
        (
            E.Message(
                locationMessage=E.LocationMessage(
                    degreesLatitude=55.75, degreesLongitude=37.62, name="Here", address="Street 1"
                )
            ),
            {
                "typeMessage": "locationMessage",
                "location": {
                    "nameLocation": "Here",
                    "address": "Street 1",
                    "jpegThumbnail": "",
                    "latitude": 55.75,
                    "longitude": 37.62,
                },
            },
        ),
        (
            E.Message(contactMessage=E.ContactMessage(displayName="Bo", vcard="BEGIN:VCARD")),
            {
                "typeMessage": "contactMessage",
                "contact": {"displayName": "Bo", "vcard": "BEGIN:VCARD"},
            },
        ),
        (
            E.Message(
                contactsArrayMessage=E.ContactsArrayMessage(
                    contacts=[E.ContactMessage(displayName="Bo", vcard="V")]
                )
            ),
            {
                "typeMessage": "contactsArrayMessage",
                "contacts": [{"displayName": "Bo", "vcard": "V"}],
            },
        ),
        (E.Message(), {"typeMessage": ""}),  # nothing WhatsApp let us see of it
    ],
)
def test_a_quoted_message_is_shown_flattened(quoted: Any, shown: dict[str, Any]) -> None:
    ext = E.ExtendedTextMessage(text="re", contextInfo=_reply(quoted))
    assert _data(E.Message(extendedTextMessage=ext))["quotedMessage"] == {
        "stanzaId": "3EB0QUOTED",
        "participant": "79001234567@c.us",
        **shown,
    }


def test_a_reply_in_a_group_names_the_quoted_author() -> None:
    context = _reply(E.Message(conversation="q"), participant="79005550000@s.whatsapp.net")
    ext = E.ExtendedTextMessage(text="a", contextInfo=context)
    data = _data(E.Message(extendedTextMessage=ext), chat=GROUP, sender=PEER)
    assert data["extendedTextMessageData"]["participant"] == "79005550000@c.us"
    assert data["quotedMessage"]["participant"] == "79005550000@c.us"


def test_a_file_reply_keeps_its_type_and_carries_the_quote() -> None:
    image = E.ImageMessage(
        mimetype="image/jpeg", caption="this", contextInfo=_reply(E.Message(conversation="q"))
    )
    data = _data(E.Message(imageMessage=image))
    assert data["typeMessage"] == "imageMessage"
    assert data["quotedMessage"] == {
        "stanzaId": "3EB0QUOTED",
        "participant": "79001234567@c.us",
        "typeMessage": "textMessage",
        "textMessage": "q",
    }


def _poll_case(
    field: str, name: str, options: tuple[str, ...], count: int, *, multiple: bool
) -> tuple[Any, dict[str, Any]]:
    creation = E.PollCreationMessage(
        name=name,
        options=[E.PollCreationMessage.Option(optionName=o) for o in options],
        selectableOptionsCount=count,  # 0: any number of options
    )
    shown = {
        "name": name,
        "options": [{"optionName": o} for o in options],
        "multipleAnswers": multiple,
    }
    return E.Message(**{field: creation}), {"typeMessage": "pollMessage", "pollMessageData": shown}


def _file(**fields: Any) -> dict[str, Any]:
    base = {"downloadUrl": "", "caption": "", "jpegThumbnail": ""}
    return base | fields | NOT_FORWARDED


@pytest.mark.parametrize(
    ("content", "data"),
    [
        (
            E.Message(
                imageMessage=E.ImageMessage(
                    mimetype="image/jpeg", caption="a cat", JPEGThumbnail=THUMB, URL="https://x"
                )
            ),
            {
                "typeMessage": "imageMessage",
                "fileMessageData": _file(
                    caption="a cat",
                    fileName="3EB0ABCDEF0123456789.jpg",
                    jpegThumbnail=THUMB64,
                    mimeType="image/jpeg",
                ),
            },
        ),
        (
            E.Message(videoMessage=E.VideoMessage(mimetype="video/mp4", caption="clip")),
            {
                "typeMessage": "videoMessage",
                "fileMessageData": _file(
                    caption="clip", fileName="3EB0ABCDEF0123456789.mp4", mimeType="video/mp4"
                ),
            },
        ),
        (
            E.Message(ptvMessage=E.VideoMessage(mimetype="video/mp4")),
            {
                "typeMessage": "videoMessage",
                "fileMessageData": _file(fileName="3EB0ABCDEF0123456789.mp4", mimeType="video/mp4"),
            },
        ),
        (
            E.Message(audioMessage=E.AudioMessage(mimetype="audio/ogg; codecs=opus", PTT=True)),
            {
                "typeMessage": "audioMessage",
                "fileMessageData": _file(
                    fileName="3EB0ABCDEF0123456789.ogg", mimeType="audio/ogg; codecs=opus"
                ),
            },
        ),
        (
            E.Message(
                documentMessage=E.DocumentMessage(
                    mimetype="application/pdf", fileName="report.pdf", caption="Q3"
                )
            ),
            {
                "typeMessage": "documentMessage",
                "fileMessageData": _file(
                    caption="Q3", fileName="report.pdf", mimeType="application/pdf"
                ),
            },
        ),
        (
            E.Message(documentMessage=E.DocumentMessage(mimetype="application/x-unheard-of")),
            {
                "typeMessage": "documentMessage",
                "fileMessageData": _file(
                    fileName="3EB0ABCDEF0123456789.bin", mimeType="application/x-unheard-of"
                ),
            },
        ),
        (
            E.Message(stickerMessage=E.StickerMessage(mimetype="image/webp", isAnimated=True)),
            {
                "typeMessage": "stickerMessage",
                "fileMessageData": _file(
                    fileName="3EB0ABCDEF0123456789.webp", isAnimated=True, mimeType="image/webp"
                ),
            },
        ),
        (
            E.Message(
                locationMessage=E.LocationMessage(
                    degreesLatitude=55.7558,
                    degreesLongitude=37.6173,
                    name="Red Square",
                    address="Moscow",
                    JPEGThumbnail=THUMB,
                )
            ),
            {
                "typeMessage": "locationMessage",
                "locationMessageData": {
                    "nameLocation": "Red Square",
                    "address": "Moscow",
                    "jpegThumbnail": THUMB64,
                    "latitude": 55.7558,
                    "longitude": 37.6173,
                }
                | NOT_FORWARDED,
            },
        ),
        (
            E.Message(
                contactMessage=E.ContactMessage(
                    displayName="Bo Li",
                    vcard="BEGIN:VCARD\nVERSION:3.0\nFN:Bo Li\nEND:VCARD",
                    contextInfo=E.ContextInfo(isForwarded=True, forwardingScore=2),
                )
            ),
            {
                "typeMessage": "contactMessage",
                "contactMessageData": {
                    "displayName": "Bo Li",
                    "vcard": "BEGIN:VCARD\nVERSION:3.0\nFN:Bo Li\nEND:VCARD",
                    "forwardingScore": 2,
                    "isForwarded": True,
                },
            },
        ),
        (
            E.Message(
                contactsArrayMessage=E.ContactsArrayMessage(
                    displayName="2 contacts",
                    contacts=[
                        E.ContactMessage(displayName="A", vcard="VA"),
                        E.ContactMessage(displayName="B", vcard="VB"),
                    ],
                )
            ),
            {
                "typeMessage": "contactsArrayMessage",
                "messageData": {
                    "contacts": [
                        {"displayName": "A", "vcard": "VA"},
                        {"displayName": "B", "vcard": "VB"},
                    ]
                }
                | NOT_FORWARDED,
            },
        ),
        _poll_case("pollCreationMessage", "Lunch?", ("Soup", "Rice"), 0, multiple=True),
        _poll_case("pollCreationMessageV3", "One?", ("Y", "N"), 1, multiple=False),
        (
            E.Message(
                groupInviteMessage=E.GroupInviteMessage(
                    groupJID=GROUP,
                    inviteCode="AbCd",
                    inviteExpiration=1796700000,
                    groupName="Team",
                    caption="join us",
                    JPEGThumbnail=THUMB,
                )
            ),
            {
                "typeMessage": "groupInviteMessage",
                "groupInviteMessageData": {
                    "groupJid": GROUP,
                    "inviteCode": "AbCd",
                    "inviteExpiration": "1796700000",
                    "groupName": "Team",
                    "caption": "join us",
                    "name": "Ann",
                    "jpegThumbnail": THUMB64,
                },
            },
        ),
    ],
)
def test_each_kind_of_message_arrives_as_green_api_shows_it(
    content: Any, data: dict[str, Any]
) -> None:
    assert _data(content) == data


def _key(stanza: str, *, from_me: bool, participant: str = "", chat: str = PEER) -> Any:
    return proto.MessageKey(remoteJID=chat, fromMe=from_me, ID=stanza, participant=participant)


@pytest.mark.parametrize(
    ("key", "kw", "author"),
    [
        # In a group, someone else's message names its author.
        (
            _key("M1", from_me=False, participant=PEER, chat=GROUP),
            {"chat": GROUP, "sender": ME},
            "79001234567@c.us",
        ),
        # The reacting person's own message.
        (_key("M1", from_me=True), {}, "79001234567@c.us"),
        # In a private chat, a message of the other one: ours, when they react.
        (_key("M1", from_me=False), {}, "79990000000@c.us"),
        # Our phone reacting to the peer's message.
        (_key("M1", from_me=False), {"from_me": True}, "79001234567@c.us"),
    ],
)
def test_a_reaction_names_the_message_and_its_author(
    key: Any, kw: dict[str, Any], author: str
) -> None:
    reaction = E.ReactionMessage(key=key, text="👍", senderTimestampMS=T_MS)
    found = received(message_ev(E.Message(reactionMessage=reaction), **kw), me="79990000000@c.us")
    assert found is not None
    assert found.message_data == {
        "typeMessage": "reactionMessage",
        "extendedTextMessageData": {"text": "👍"},
        "quotedMessage": {"stanzaId": "M1", "participant": author},
    }


def test_a_reaction_taken_back_has_no_text() -> None:
    reaction = E.ReactionMessage(key=_key("M1", from_me=True), text="")
    assert _data(E.Message(reactionMessage=reaction))["extendedTextMessageData"] == {"text": ""}


def _protocol(kind: Any, edited: Any = None) -> Any:
    p = E.ProtocolMessage(key=_key("3EB0ORIGINAL", from_me=False), type=kind, timestampMS=T_MS)
    if edited is not None:
        p.editedMessage.CopyFrom(edited)
    return E.Message(protocolMessage=p)


@pytest.mark.parametrize(
    ("edited", "shown"),
    [
        (E.Message(conversation="fixed"), {"textMessage": "fixed"}),
        (
            E.Message(extendedTextMessage=E.ExtendedTextMessage(text="fixed too")),
            {"textMessage": "fixed too"},
        ),
        (
            E.Message(imageMessage=E.ImageMessage(caption="new caption")),
            {"textMessage": "new caption", "caption": "new caption"},
        ),
    ],
)
def test_an_edit_names_the_edited_message(edited: Any, shown: dict[str, Any]) -> None:
    found = received(
        message_ev(
            _protocol(E.ProtocolMessage.MESSAGE_EDIT, edited), id_message="3EB0EDIT", is_edit=True
        )
    )
    assert found is not None
    assert found.id_message == "3EB0EDIT"  # the edit's own id; the edited one is the stanzaId
    assert found.message_data == {
        "typeMessage": "editedMessage",
        "editedMessageData": {"stanzaId": "3EB0ORIGINAL", **shown},
    }


def test_a_delete_names_the_deleted_message() -> None:
    assert _data(_protocol(E.ProtocolMessage.REVOKE)) == {
        "typeMessage": "deletedMessage",
        "deletedMessageData": {"stanzaId": "3EB0ORIGINAL"},
    }


@pytest.mark.parametrize(
    ("content", "kw"),
    [
        (_protocol(E.ProtocolMessage.EPHEMERAL_SETTING), {}),
        (_protocol(E.ProtocolMessage.HISTORY_SYNC_NOTIFICATION), {}),
        (
            E.Message(
                senderKeyDistributionMessage=E.SenderKeyDistributionMessage(groupID=GROUP),
                messageContextInfo=E.MessageContextInfo(messageSecret=b"s" * 32),
            ),
            {"chat": GROUP, "sender": PEER},
        ),
        (E.Message(), {}),
        (E.Message(liveLocationMessage=E.LiveLocationMessage(degreesLatitude=1.0)), {}),
        (E.Message(conversation="a status update"), {"chat": "status@broadcast", "sender": PEER}),
    ],
)
def test_what_green_api_does_not_show_is_none(content: Any, kw: dict[str, Any]) -> None:
    assert received(message_ev(content, **kw)) is None


def test_the_first_group_message_carries_a_key_distribution_beside_its_text() -> None:
    content = E.Message(
        conversation="first",
        senderKeyDistributionMessage=E.SenderKeyDistributionMessage(groupID=GROUP),
    )
    assert _data(content, chat=GROUP, sender=PEER)["textMessageData"] == {"textMessage": "first"}


# --- receipts and presence --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status"),
    [
        (proto.ReceiptEv.DELIVERED, MessageStatus.DELIVERED),
        (proto.ReceiptEv.READ, MessageStatus.READ),
        (proto.ReceiptEv.PLAYED, MessageStatus.READ),
        (proto.ReceiptEv.SENDER, None),
        (proto.ReceiptEv.RETRY, None),
        (proto.ReceiptEv.READ_SELF, None),
        (proto.ReceiptEv.PLAYED_SELF, None),
        (proto.ReceiptEv.SERVER_ERROR, None),
        (proto.ReceiptEv.INACTIVE, None),
        (proto.ReceiptEv.PEER_MSG, None),
        (proto.ReceiptEv.HISTORY_SYNC, None),
        (None, None),  # a kind Go did not know: Type left unset
    ],
)
def test_receipt_status(kind: Any, status: MessageStatus | None) -> None:
    ev = receipt_ev(kind, ["3EB0A", "3EB0B"])
    assert receipt_status(ev) == status
    assert list(ev.MessageIDs) == ["3EB0A", "3EB0B"]


@pytest.mark.parametrize(
    ("state", "media", "status"),
    [
        (proto.ChatPresenceEv.COMPOSING, proto.ChatPresenceEv.TEXT, "COMPOSING"),
        (proto.ChatPresenceEv.COMPOSING, proto.ChatPresenceEv.AUDIO, "RECORDING"),
        (proto.ChatPresenceEv.PAUSED, proto.ChatPresenceEv.TEXT, "PAUSED"),
        (proto.ChatPresenceEv.PAUSED, proto.ChatPresenceEv.AUDIO, "PAUSED"),
    ],
)
def test_chat_presence(state: Any, media: Any, status: str) -> None:
    assert chat_presence(chat_presence_ev(state, media)) == ("79001234567@c.us", status)
    assert status in PRESENCES  # the words of fleetgate's presence notifications


def test_chat_presence_in_a_group_and_under_a_lid() -> None:
    typing = proto.ChatPresenceEv.COMPOSING, proto.ChatPresenceEv.TEXT
    assert chat_presence(chat_presence_ev(*typing, chat=GROUP, sender=PEER))[0] == GROUP
    lid = chat_presence_ev(*typing, chat="100200300400500@lid", alt=PEER)
    assert chat_presence(lid)[0] == "79001234567@c.us"


def test_presence() -> None:
    online = presence(presence_ev(PEER, unavailable=False, last_seen_s=0))
    assert online == ("79001234567@c.us", "AVAILABLE", None)
    away = presence(presence_ev(PEER, unavailable=True, last_seen_s=1_796_619_000))
    assert away == ("79001234567@c.us", "UNAVAILABLE", 1_796_619_000_000)
    assert {online[1], away[1]} <= set(PRESENCES)
    lid = presence(presence_ev("100200300400500@lid", unavailable=True, last_seen_s=0))
    assert lid == ("100200300400500@lid", "UNAVAILABLE", None)


# --- poll votes -------------------------------------------------------------------------------

POLL = {
    "typeMessage": "pollMessage",
    "pollMessageData": {
        "name": "Lunch?",
        "options": [{"optionName": "Soup"}, {"optionName": "Rice"}, {"optionName": "Tea"}],
        "multipleAnswers": True,
    },
}


def _vote(voter: str, id_message: str = "3EB0VOTE") -> Any:
    update = E.PollUpdateMessage(
        pollCreationMessageKey=_key("3EB0POLL", from_me=True),
        vote=E.PollEncValue(encPayload=b"sealed", encIV=b"iv"),
        senderTimestampMS=T_MS,
    )
    return message_ev(
        E.Message(pollUpdateMessage=update), sender=voter, chat=GROUP, id_message=id_message
    )


def _hashes(*names: str) -> list[bytes]:
    return [hashlib.sha256(n.encode()).digest() for n in names]


def _tally(votes: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "typeMessage": "pollUpdateMessage",
        "pollMessageData": {
            "stanzaId": "3EB0POLL",
            "name": "Lunch?",
            "votes": [
                {"optionName": o, "optionVoters": votes.get(o, [])} for o in ("Soup", "Rice", "Tea")
            ],
            "multipleAnswers": True,
        },
    }


def test_poll_votes_are_tallied_vote_after_vote() -> None:
    poll = poll_of(POLL)
    assert poll == Poll("Lunch?", ("Soup", "Rice", "Tea"), True)
    # A vote without its poll cannot be told: received() leaves it to poll_update.
    assert received(_vote(PEER)) is None

    first, poll = poll_update(_vote(PEER), _hashes("Tea", "Soup"), poll)
    assert (first.chat_id, first.sender, first.id_message) == (
        GROUP,
        "79001234567@c.us",
        "3EB0VOTE",
    )
    assert first.message_data == _tally({"Soup": ["79001234567@c.us"], "Tea": ["79001234567@c.us"]})

    other = "79005550000@s.whatsapp.net"
    second, poll = poll_update(_vote(other), _hashes("Soup", "Coffee"), poll)  # Coffee: no option
    assert second.message_data == _tally(
        {"Soup": ["79001234567@c.us", "79005550000@c.us"], "Tea": ["79001234567@c.us"]}
    )
    # A new vote replaces the voter's last one; an empty one takes it back.
    third, poll = poll_update(_vote(PEER), _hashes("Rice"), poll)
    assert third.message_data == _tally(
        {"Soup": ["79005550000@c.us"], "Rice": ["79001234567@c.us"]}
    )
    fourth, poll = poll_update(_vote(other), [], poll)
    assert fourth.message_data == _tally({"Rice": ["79001234567@c.us"]})
    assert poll.votes == {"79001234567@c.us": ("Rice",)}


def test_poll_update_and_poll_of_refuse_what_is_not_a_poll() -> None:
    with pytest.raises(ValueError, match="not a poll vote"):
        poll_update(message_ev(E.Message(conversation="x")), [], poll_of(POLL))
    with pytest.raises(ValueError, match="not a pollMessage"):
        poll_of({"typeMessage": "textMessage", "textMessageData": {"textMessage": "x"}})
