"""The real client's event mapping (neonize_client.py), offline: real neonize event protobufs
pushed through the library's own ctypes dispatch, as its Go layer delivers them.

This imports the library into the test process (its protobuf classes are needed). Nothing
here connects. What it proves: each connection-level event reaches ClientEvents in fleetgate's
terms, the JID of ``connected`` comes from the device record the library hands over first
(no ``get_me``), QR codes carry their life, and the login window's end is seen, and received
media that cannot be downloaded still arrives. Messages, receipts and presence go through
translate.py and are tested with it.
"""

from __future__ import annotations

import ctypes
import importlib
import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from fleetgate_whatsapp import proto
from fleetgate_whatsapp.client import FactoryOptions, Store
from tests.whatsapp.events import message_ev

# neonize_client first: it undoes what importing the library does to the process (a root
# logging handler, a sys.path entry); the library's modules are then taken as they are.
neonize_client = importlib.import_module("fleetgate_whatsapp.neonize_client")
pb = importlib.import_module("neonize.proto.Neonize_pb2")
binder = importlib.import_module("neonize._binder")
events_module = importlib.import_module("neonize.events")

DEVICE = "15550001:7@s.whatsapp.net"
E = proto.e2e


class Recorder:
    """A ClientEvents that keeps every call it gets: (method name, its arguments in order)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Callable[..., None]:
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: self.calls.append((name, (*args, *kwargs.values())))


@pytest.fixture
def wired(tmp_path: Path) -> Iterator[tuple[Any, Any, Recorder]]:
    """An unconnected client, its library client with our handlers, and what it reports."""
    factory = neonize_client.NeonizeFactory(FactoryOptions())
    recorder = Recorder()
    client = factory.client(Store(str(tmp_path / "store.db")), DEVICE, recorder)
    lib = client._new_library_client()
    yield client, lib, recorder
    client.stop()


def _deliver(lib: Any, event: Any) -> None:
    """Hand ``event`` to the library's dispatch the way its Go layer does (the ctypes
    trampoline, a C buffer of the serialized message, the event's code)."""
    code = 0 if isinstance(event, pb.Device) else events_module.EVENT_TO_INT[type(event)]
    data = event.SerializePartialToString()
    buffer = ctypes.create_string_buffer(data, len(data))
    trampoline = binder.func_callback_bytes(lib.event.execute)
    trampoline(lib.uuid, ctypes.addressof(buffer), len(data), code)


def _jid(text: str) -> Any:
    return neonize_client.device_jid(text)


def test_connection_events_reach_the_session_in_fleetgate_terms(wired: Any) -> None:
    _, lib, recorder = wired
    _deliver(lib, pb.Device(JID=_jid("15550001:8@s.whatsapp.net"), PushName="me"))
    _deliver(lib, pb.Connected(status=True))
    _deliver(lib, pb.Disconnected(status=True))
    _deliver(lib, pb.KeepAliveTimeout(ErrorCount=3, LastSuccess=0))
    _deliver(lib, pb.LoggedOut(OnConnect=True, Reason=pb.ConnectFailureReason.Value("LOGGED_OUT")))
    _deliver(lib, pb.TemporaryBan(Code=1, Expire=3600))
    _deliver(lib, pb.StreamReplaced())
    _deliver(lib, pb.PairStatus(ID=_jid("15550001:9@s.whatsapp.net"), Status=2))
    _deliver(lib, pb.PairStatus(Status=1, Error="phone said no"))
    assert recorder.calls == [
        ("connected", ("15550001:8@s.whatsapp.net",)),
        ("disconnected", ("connection closed",)),
        ("disconnected", ("keepalive timeout (3 missed)",)),
        ("logged_out", ("LOGGED_OUT",)),
        ("banned", ("SEND_TO_TOO_MANY_PEOPLE", 3600)),
        ("replaced", ()),
        ("paired", ("15550001:9@s.whatsapp.net",)),
    ]


def test_a_refused_connection_stops_the_library_client_to_be_retried(wired: Any) -> None:
    client, lib, recorder = wired
    _deliver(lib, pb.ConnectFailure(Reason=1, Message="service unavailable"))
    assert recorder.calls == [("disconnected", ("GENERIC: service unavailable",))]
    assert client._failure == "GENERIC: service unavailable"  # connect() raises it


def test_qr_codes_and_the_end_of_the_login_window(wired: Any) -> None:
    _, lib, recorder = wired
    for code in (b"2@first", b"2@second"):
        buffer = ctypes.create_string_buffer(code)
        binder.func_string(lib._NewClient__onQr)(lib.uuid, ctypes.addressof(buffer))
    status = ctypes.create_string_buffer(b"timeout")
    binder.func_string(lib._NewClient__onLoginStatus)(lib.uuid, ctypes.addressof(status))
    (first, first_exp), (second, second_exp) = (args for _, args in recorder.calls[:2])
    assert (first, second) == ("2@first", "2@second")
    assert 39_000 <= first_exp - second_exp <= 41_000  # 60 s for the first, 20 s after
    assert recorder.calls[2] == ("qr_expired", ())


def test_device_jids_round_trip_to_the_stored_text() -> None:
    for text in ("15550001:7@s.whatsapp.net", "15550001@s.whatsapp.net", "1555.1:2@lid"):
        assert neonize_client.device_jid_text(neonize_client.device_jid(text)) == text
    with pytest.raises(Exception, match="is not a device JID"):
        neonize_client.device_jid("15550001:x@s.whatsapp.net")


def test_received_media_that_cannot_be_had_arrives_without_its_file(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Offline the download fails (no connection): the message is still reported, without
    its file, with one log line; a file announced over the limit is not even tried."""
    factory = neonize_client.NeonizeFactory(FactoryOptions(media_max_bytes=1000))
    recorder = Recorder()
    client = factory.client(Store(str(tmp_path / "store.db")), DEVICE, recorder)
    lib = client._new_library_client()
    try:
        small = E.ImageMessage(mimetype="image/jpeg", fileLength=500, caption="hi")
        large = E.VideoMessage(mimetype="video/mp4", fileLength=1001)
        with caplog.at_level(logging.WARNING, logger="fleetgate_whatsapp.neonize_client"):
            _deliver(lib, message_ev(E.Message(imageMessage=small), id_message="3EB0A"))
            _deliver(lib, message_ev(E.Message(ptvMessage=large), id_message="3EB0B"))
    finally:
        client.stop()
    reported = [args[0] for name, args in recorder.calls if name == "message"]
    assert [(r.id_message, r.file) for r in reported] == [("3EB0A", None), ("3EB0B", None)]
    assert reported[0].message_data["fileMessageData"]["caption"] == "hi"
    assert [r.getMessage() for r in caplog.records] == [
        "the imageMessage of message 3EB0A could not be downloaded: not connected",
        "the ptvMessage of message 3EB0B is not downloaded: 1001 bytes, over the limit of 1000",
    ]


def test_poll_votes_need_their_poll_and_its_secret(
    wired: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """A vote names its poll by id only: one on a poll this connection never saw is dropped
    with a log line; one on a poll it saw is decrypted by the library (offline that fails,
    with a log line) before it is counted (translate.poll_update, tested with translate)."""
    _, lib, recorder = wired
    question = E.PollCreationMessage(
        name="Lunch?",
        options=[E.PollCreationMessage.Option(optionName=n) for n in ("Soup", "Tea")],
        selectableOptionsCount=1,
    )

    def vote(poll_id: str, id_message: str) -> Any:
        key = proto.MessageKey(remoteJID="79001234567@s.whatsapp.net", fromMe=True, ID=poll_id)
        update = E.PollUpdateMessage(
            pollCreationMessageKey=key,
            vote=E.PollEncValue(encPayload=b"sealed", encIV=b"iv"),
            senderTimestampMS=1,
        )
        return message_ev(E.Message(pollUpdateMessage=update), id_message=id_message)

    with caplog.at_level(logging.WARNING, logger="fleetgate_whatsapp.neonize_client"):
        _deliver(lib, message_ev(E.Message(pollCreationMessageV3=question), id_message="3EB0P"))
        _deliver(lib, vote("3EB0UNSEEN", "3EB0V1"))
        _deliver(lib, vote("3EB0P", "3EB0V2"))
    reported = [args[0] for name, args in recorder.calls if name == "message"]
    assert [r.message_data["typeMessage"] for r in reported] == ["pollMessage"]
    assert [r.getMessage() for r in caplog.records] == [
        "the vote 3EB0V1 on poll 3EB0UNSEEN is not reported: "
        "the poll was sent before this worker started",
        "the vote 3EB0V2 on poll 3EB0P could not be decrypted: not connected",
    ]


def test_group_calls_on_a_connection_not_up_are_errors_not_refusals(wired: Any) -> None:
    """Only WhatsApp's refusals are answers (groups.refusal); "not connected" stays an error."""
    client, _, _ = wired
    with pytest.raises(Exception, match="not connected"):
        client.rename_group("120363000000000001@g.us", "x")
    with pytest.raises(Exception, match="not connected"):
        client.group_data("120363000000000001@g.us")
    with pytest.raises(Exception, match="chat id must be"):
        client.revoke("not-a-chat", "3EB0")


def test_the_library_has_every_enum_value_the_client_names() -> None:
    """Typing states and member changes are named by the library's enums: a name it does not
    have would fail only on a live connection."""
    enum = importlib.import_module("neonize.utils.enum")
    groups = importlib.import_module("fleetgate_whatsapp.groups")
    for state, name in neonize_client._PRESENCES.items():
        assert isinstance(getattr(enum.ChatPresence, name), enum.ChatPresence), state
    for state, name in neonize_client._PRESENCE_MEDIA.items():
        assert isinstance(getattr(enum.ChatPresenceMedia, name), enum.ChatPresenceMedia), state
    for action in groups.ACTIONS:
        assert getattr(enum.ParticipantChange, action.upper()).value == action
