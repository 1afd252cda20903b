"""The group and chat ops of a worker process (args.py) over its real socket, with the
stand-in factory (fake_client.py): each reaches the client with its arguments, answers its
result, and bad arguments are answered with their reason before the client is asked."""

from __future__ import annotations

from fleetgate_whatsapp.ipc import file_text
from tests.whatsapp.fake_client import INVITE, file_of
from tests.whatsapp.worker_harness import worker_process

DEVICE = "15550001:3@s.whatsapp.net"
GROUP = "120363000000000001@g.us"
PEER = "15550002@c.us"


def _file(size: int) -> dict[str, str]:
    return {"content": file_text(file_of(size)), "mime_type": "image/jpeg", "file_name": "a.jpg"}


def test_group_and_chat_ops_reach_the_client() -> None:
    with worker_process() as worker:
        assert worker.ok("open", 1, store="ok/1", jid=DEVICE) is None
        worker.wait_event(1, "connected")

        made = worker.ok("create_group", 1, name="Friends", participants=[PEER])
        assert made == {"chatId": GROUP, "groupInviteLink": INVITE}
        worker.wait_log(f"fake: create group Friends with {PEER}")
        assert worker.ok("group_data", 1, group_id=GROUP) == {"groupId": GROUP, "subject": "fake"}
        assert worker.ok("group_data", 1, group_id="404@g.us") is None
        assert worker.ok("rename_group", 1, group_id=GROUP, name="Ours") == ""
        assert worker.ok("rename_group", 1, group_id=GROUP, name="refused") == "NOT_ENOUGH_RIGHTS"
        for action in ("add", "remove", "promote", "demote"):
            args = {"group_id": GROUP, "participant": PEER, "action": action}
            assert worker.ok("group_participant", 1, **args) == ""
            worker.wait_log(f"fake: {action} {PEER} in {GROUP}")
        assert worker.ok("leave_group", 1, group_id="404@g.us") == "group not found"
        assert worker.ok("group_picture", 1, group_id=GROUP, file=_file(300)) == ""
        worker.wait_log(f"fake: picture of {GROUP}: 300 bytes")
        settings = {"group_id": GROUP, "members_edit": None, "members_send": False}
        assert worker.ok("group_settings", 1, **settings) == ""
        worker.wait_log(f"fake: settings of {GROUP}: None False")

        assert worker.ok("revoke", 1, chat_id=PEER, id_message="3EB0A") is None
        worker.wait_log(f"fake: revoke {PEER} 3EB0A")
        assert worker.ok("edit", 1, chat_id=PEER, id_message="3EB0A", text="new") is None
        worker.wait_log(f"fake: edit {PEER} 3EB0A new")
        for state in ("composing", "recording", "paused"):
            assert worker.ok("typing", 1, chat_id=PEER, state=state) is None
            worker.wait_log(f"fake: typing {PEER} {state}")
        assert worker.ok("disappearing", 1, chat_id=PEER, expiration_s=86400) is None
        worker.wait_log(f"fake: disappearing {PEER} 86400")
        assert worker.ok("profile_picture", 1, file=_file(500)) is None
        worker.wait_log("fake: profile picture 500 bytes")


# op, its arguments, the start of the error it answers.
BAD: list[tuple[str, dict[str, object], str]] = [
    ("create_group", {"name": "", "participants": []}, "name must be a non-empty string"),
    ("create_group", {"name": "G", "participants": "x"}, "participants must be a list"),
    ("create_group", {"name": "G", "participants": [1]}, "participants must be a list"),
    (
        "group_participant",
        {"group_id": GROUP, "participant": PEER, "action": "ban"},
        "action must be one of add, remove, promote, demote",
    ),
    (
        "group_settings",
        {"group_id": GROUP, "members_edit": "yes", "members_send": None},
        "members_edit must be true, false or null",
    ),
    ("group_picture", {"group_id": GROUP, "file": None}, "file must be a picture"),
    (
        "group_picture",
        {"group_id": GROUP, "file": {"content": "%%", "mime_type": "", "file_name": ""}},
        "file must be base64 text",
    ),
    (
        "typing",
        {"chat_id": PEER, "state": "dancing"},
        "state must be one of composing, recording, paused",
    ),
    (
        "disappearing",
        {"chat_id": PEER, "expiration_s": -1},
        "expiration_s must be a whole number of seconds, 0 or more",
    ),
    (
        "disappearing",
        {"chat_id": PEER, "expiration_s": True},
        "expiration_s must be a whole number of seconds, 0 or more",
    ),
    ("edit", {"chat_id": PEER, "id_message": "", "text": "x"}, "id_message must be"),
    ("profile_picture", {"file": _file(0)}, "file must be a picture"),
]


def test_bad_arguments_are_answered_before_the_client_is_asked() -> None:
    with worker_process() as worker:
        assert worker.ok("open", 1, store="ok/1", jid=DEVICE) is None
        worker.wait_event(1, "connected")
        asked = len(worker.logs("fake: "))
        for op, args, error in BAD:
            answer = worker.call(op, 1, **args)
            assert not answer.ok, (op, args)
            assert answer.error.startswith(error), (op, args, answer.error)
        # The worker goes on serving, and the fake was asked nothing of these (it logs each
        # call; exists is the marker that every earlier log line has arrived).
        assert worker.ok("exists", 1, phone="15550001") is True
        assert len(worker.logs("fake: ")) == asked


def test_ops_of_a_session_not_open_are_refused() -> None:
    with worker_process() as worker:
        answer = worker.call("group_data", 7, group_id=GROUP)
        assert not answer.ok and answer.error == "session 7 is not open"
