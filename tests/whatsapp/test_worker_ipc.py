"""The worker process over its real socket, with the stand-in factory (fake_client.py).

Every op round-trips; bad frames are answered or dropped and the worker goes on; a device
its store no longer holds is refused before a client is built; failed connects back off and
stop when closed; sessions that ended for good are not reconnected; the worker leaves on end
of stream and on SIGTERM, even with a connect thread stuck.
"""

from __future__ import annotations

import hashlib
import signal
import time

import orjson
import pytest

from fleetgate_whatsapp.ipc import (
    HEADER,
    Event,
    ProtocolError,
    encode,
    file_bytes,
    file_text,
    frame_limit,
)
from tests.whatsapp.fake_client import file_of
from tests.whatsapp.worker_harness import WAIT_S, worker_process

DEVICE = "15550001:3@s.whatsapp.net"


def _raw(obj: object) -> bytes:
    body = orjson.dumps(obj)
    return HEADER.pack(len(body)) + body


def test_every_op_round_trips() -> None:
    with worker_process() as worker:
        assert worker.ok("ping") == worker.proc.pid
        assert worker.ok("migrate", store="ok/1") is None
        assert worker.ok("open", 1, store="ok/1", jid=DEVICE) is None
        assert worker.wait_event(1, "connected").data == {"jid": DEVICE}
        message = {"typeMessage": "textMessage", "textMessage": "hi"}
        sent = worker.ok("send", 1, chat_id="15550002@c.us", message_data=message)
        assert sent == "WA-15550002-hi"
        read = worker.ok("mark_read", 1, chat_id="c@c.us", sender="s@c.us", id_messages=["A", "B"])
        assert read is None
        worker.wait_log("fake: read c@c.us s@c.us A,B")
        assert worker.ok("exists", 1, phone="15550001") is True
        assert worker.ok("exists", 1, phone="15550002") is False
        refused = worker.call("send", 1, chat_id="x@c.us", message_data={"typeMessage": "refused"})
        assert not refused.ok and refused.error == "the fake refuses this message"

        assert worker.ok("open", 2, store="qr/2", jid=None) is None
        qr = worker.wait_event(2, "qr")
        assert qr.data["code"] == "2@fake-code" and qr.data["expires_ms"] > time.time() * 1000
        assert worker.ok("pair_phone", 2, phone="+15550009999") == "CODE-9999"
        linked = worker.call("pair_phone", 1, phone="15550009999")
        assert not linked.ok and linked.error == "the device is linked already"

        assert worker.ok("logout", 1) is None
        worker.wait_log("fake: logout ok/1")
        worker.wait_log("fake: stop ok/1")
        gone = worker.call("send", 1, chat_id="x@c.us", message_data=message)
        assert not gone.ok and gone.error == "session 1 is not open"
        assert worker.ok("close", 2) is None
        worker.wait_log("fake: stop qr/2")
        assert worker.ok("close", 99) is None  # closing what is not open is no error


def test_bad_frames_are_refused_and_the_worker_goes_on() -> None:
    # Files of at most 1000 bytes: frames are bounded a little over ipc.MAX_FRAME.
    limit = frame_limit(1000)
    with worker_process("--media-max-bytes", "1000") as worker:
        worker.send_bytes(HEADER.pack(5) + b"{nope")
        worker.send_bytes(_raw({"t": "call", "id": 41, "op": "format_disk", "sid": 0}))
        worker.send_bytes(_raw({"t": "call", "id": 42, "op": "send", "sid": 1, "args": {}}))
        worker.send_bytes(_raw({"t": "call", "id": 43, "op": "ping", "sid": "zero"}))
        worker.send_bytes(_raw({"t": "call", "id": "44", "op": "ping", "sid": 0}))
        # A frame over the limit is skipped whole: the stream stays in step.
        worker.send_bytes(HEADER.pack(limit + 1) + b"\0" * (limit + 1))
        worker.send_bytes(encode(Event(sid=1, kind="replaced")))

        assert "unknown op 'format_disk'" in worker.reply(41).error
        assert "lacks chat_id, message_data" in worker.reply(42).error
        assert worker.ok("ping") == worker.proc.pid
        assert worker.reply(43).error == "bad frame: sid must be an integer"
        assert len(worker.logs("refused a frame")) == 6
        assert worker.logs("ignored a Event frame")
        assert len(worker.replies) == 4  # 41, 42, 43 and the ping: "44" cannot be answered

        wrong = worker.call("open", 1, store="ok/1", jid=17)
        assert not wrong.ok and "jid must be a device JID" in wrong.error
        assert worker.ok("open", 1, store="ok/1", jid=None) is None
        bad_data = worker.call("send", 1, chat_id="x@c.us", message_data="hi")
        assert not bad_data.ok and bad_data.error == "message_data must be an object"
        bad_ids = worker.call("mark_read", 1, chat_id="c", sender="s", id_messages=[1])
        assert not bad_ids.ok and bad_ids.error == "id_messages must be a list of strings"
        assert worker.proc.poll() is None


def test_a_stale_device_is_refused_before_a_client_is_built() -> None:
    with worker_process() as worker:
        stale = worker.call("open", 1, store="ok/stale", jid="stale:4@s.whatsapp.net")
        assert not stale.ok and stale.error == "device no longer linked"
        assert worker.wait_event(1, "logged_out").data == {"reason": "device no longer linked"}
        # A later open that builds its client is the marker that the first one never did.
        assert worker.ok("open", 2, store="ok/fine", jid=DEVICE) is None
        worker.wait_log("fake: client built for ok/fine")
        assert worker.logs("fake: migrate ok/stale")
        assert not worker.logs("client built for ok/stale")
        assert not worker.call("send", 1, chat_id="x@c.us", message_data={}).ok


def test_failed_connects_back_off_with_jitter() -> None:
    with worker_process("--backoff-min", "0.05", "--backoff-max", "0.2") as worker:
        worker.ok("open", 1, store="fail/1", jid=DEVICE)
        worker.wait_event(1, "connect_failed", count=5)
        failures = worker.of(1, "connect_failed")[:5]
        starts = [
            float(line.rpartition(" at ")[2]) for line in worker.logs("fake: connect fail/1 #")
        ]
        assert [f.data["attempt"] for f in failures] == [1, 2, 3, 4, 5]
        for failure in failures:
            assert "no such host" in failure.data["error"]
            ceiling = min(0.2, 0.05 * 2 ** (failure.data["attempt"] - 1))
            assert ceiling / 2 <= failure.data["retry_s"] <= ceiling
        # Each attempt starts after the pause the failure before it announced (the worker's own
        # clock: the test process may read the events late and back to back).
        for before, after, failure in zip(starts, starts[1:5], failures, strict=False):
            assert after - before >= failure.data["retry_s"] - 0.005


def test_close_during_backoff_stops_retrying() -> None:
    with worker_process("--backoff-min", "0.2", "--backoff-max", "0.2") as worker:
        worker.ok("open", 1, store="fail/1", jid=DEVICE)
        worker.wait_event(1, "connect_failed")
        started = time.monotonic()
        assert worker.ok("close", 1) is None
        assert time.monotonic() - started < 2.0  # the pause was cut short, not waited out
        # Another session's third failure comes well after session 1's retry would have.
        worker.ok("open", 2, store="fail/2", jid=DEVICE)
        worker.wait_event(2, "connect_failed", count=3)
        assert len(worker.of(1, "connect_failed")) == 1
        assert worker.logs("fake: connect fail/1 #1") and not worker.logs("connect fail/1 #2")


def test_a_session_ended_for_good_is_not_reconnected() -> None:
    with worker_process("--backoff-min", "0.05", "--backoff-max", "0.05") as worker:
        worker.ok("open", 1, store="logout/1", jid=DEVICE)
        assert worker.wait_event(1, "logged_out").data == {"reason": "LOGGED_OUT"}
        worker.wait_log("fake: stop logout/1")
        worker.ok("open", 2, store="fail/2", jid=DEVICE)
        worker.wait_event(2, "connect_failed", count=3)
        assert not worker.logs("connect logout/1 #2")
        assert not worker.of(1, "connect_failed")
        # It may be opened anew (a new link), and a live session may not be opened twice.
        assert worker.ok("open", 1, store="ok/1", jid=None) is None
        twice = worker.call("open", 1, store="ok/1", jid=None)
        assert not twice.ok and twice.error == "session 1 is already open"
        broken = worker.call("open", 3, store="broken/3", jid=None)
        assert not broken.ok and broken.error == "store: cannot create tables (fake)"


def test_the_worker_leaves_at_end_of_stream_even_with_a_stuck_connect() -> None:
    with worker_process("--stop-wait", "0.3") as worker:
        worker.ok("open", 1, store="hang/1", jid=None)
        worker.wait_event(1, "qr")
        assert worker.ok("close", 1) is None
        worker.wait_log("left behind")
        worker.ok("open", 2, store="hang/2", jid=None)
        worker.wait_event(2, "qr")
        started = time.monotonic()
        worker.close_socket()
        assert worker.proc.wait(timeout=WAIT_S) == 0
        assert time.monotonic() - started < 3.0


def test_sigterm_stops_the_sessions_and_the_worker() -> None:
    with worker_process() as worker:
        worker.ok("open", 1, store="ok/1", jid=DEVICE)
        worker.wait_event(1, "connected")
        worker.proc.send_signal(signal.SIGTERM)
        worker.wait_log("fake: stop ok/1")
        assert worker.proc.wait(timeout=WAIT_S) == 0


def test_a_factory_that_cannot_load_ends_the_worker_with_its_reason() -> None:
    with worker_process(client="tests.whatsapp.no_such_module:Factory") as worker:
        assert worker.proc.wait(timeout=WAIT_S) == 3
        worker.wait(lambda: worker.closed, "end of stream")
        assert worker.logs("cannot load the client factory tests.whatsapp.no_such_module")


def test_a_worker_that_keeps_failing_to_connect_asks_to_be_replaced() -> None:
    args = ("--backoff-min", "0.01", "--backoff-max", "0.01", "--recycle-after", "5")
    with worker_process(*args) as worker:
        worker.ok("open", 1, store="fail/1", jid=DEVICE)
        assert worker.proc.wait(timeout=WAIT_S) == 75
        worker.wait(lambda: worker.closed, "end of stream")
        assert worker.logs("5 connect attempts: the library keeps a store open for each")
        assert worker.logs("fake: stop fail/1")


def test_files_cross_the_socket_whole_both_ways() -> None:
    size = 20 * 1024 * 1024
    content = file_of(size)
    digest = hashlib.sha256(content).hexdigest()
    image = {"typeMessage": "imageMessage", "fileMessageData": {"fileName": "a.jpg"}}
    with worker_process() as worker:
        worker.ok("open", 1, store="ok/1", jid=DEVICE)
        worker.wait_event(1, "connected")
        file = {"content": file_text(content), "mime_type": "image/jpeg", "file_name": "a.jpg"}
        sent = worker.ok("send", 1, chat_id="15550002@c.us", message_data=image, file=file)
        assert sent == f"WA-{size}-{digest}-image/jpeg-a.jpg"

        worker.ok("open", 2, store=f"media/{size}", jid=DEVICE)
        received = worker.wait_event(2, "message").data
        assert hashlib.sha256(file_bytes(received.pop("file"))).hexdigest() == digest
        assert received["message_data"] == image

        bad = worker.call("send", 1, chat_id="x@c.us", message_data=image, file={"content": "%"})
        assert not bad.ok and bad.error == "file must be base64 text"
        unnamed = {"content": "", "mime_type": "image/jpeg"}
        bad = worker.call("send", 1, chat_id="x@c.us", message_data=image, file=unnamed)
        assert not bad.ok and bad.error == "file.mime_type and file.file_name must be strings"


def test_a_file_over_the_frame_limit_is_refused_before_it_is_written() -> None:
    big = Event(sid=1, kind="message", data={"file": "A" * (frame_limit(1000) + 1)})
    with pytest.raises(ProtocolError, match="is over"):
        encode(big, frame_limit(1000))
    assert len(encode(big, frame_limit(2000))) > frame_limit(1000)
