"""The group administration and blocking ops of a worker process (args.py) over its real
socket, with the stand-in factory (fake_client.py): each reaches the client and answers its
result; bad arguments are answered with their reason before the client is asked. And, offline,
the library has every name the real client calls them by."""

from __future__ import annotations

import importlib
import inspect

from tests.whatsapp.fake_client import INVITE
from tests.whatsapp.worker_harness import worker_process

DEVICE = "15550001:3@s.whatsapp.net"
GROUP = "120363000000000001@g.us"
PEER = "15550002@c.us"

# op, its arguments, the start of the error it answers.
BAD: list[tuple[str, dict[str, object], str]] = [
    ("describe_group", {"group_id": "", "description": "d"}, "group_id must be a non-empty"),
    ("describe_group", {"group_id": GROUP, "description": 5}, "description must be a string"),
    ("reset_invite", {"group_id": None}, "group_id must be a non-empty string"),
    ("join_group", {"link": ""}, "link must be a non-empty string"),
    ("block", {"chat_id": PEER, "blocked": "yes"}, "blocked must be true or false"),
    ("block", {"chat_id": "", "blocked": True}, "chat_id must be a non-empty string"),
]


def test_group_admin_and_block_ops_reach_the_client() -> None:
    with worker_process() as worker:
        assert worker.ok("open", 1, store="ok/1", jid=DEVICE) is None
        worker.wait_event(1, "connected")

        assert worker.ok("describe_group", 1, group_id=GROUP, description="Tuesdays") == ""
        worker.wait_log(f"fake: description of {GROUP}: Tuesdays")
        assert worker.ok("describe_group", 1, group_id="404@g.us", description="") == (
            "group not found"
        )
        assert worker.ok("reset_invite", 1, group_id=GROUP) == {"link": INVITE + "2", "reason": ""}
        assert worker.ok("reset_invite", 1, group_id="404@g.us") == {
            "link": "",
            "reason": "group not found",
        }
        assert worker.ok("join_group", 1, link=INVITE) == {
            "groupId": GROUP,
            "state": "joined",
            "reason": "",
        }
        assert worker.ok("join_group", 1, link=INVITE + "x")["reason"] == "invite link not valid"
        for blocked, word in ((True, "block"), (False, "unblock")):
            assert worker.ok("block", 1, chat_id=PEER, blocked=blocked) is None
            worker.wait_log(f"fake: {word} {PEER}")


def test_bad_arguments_are_answered_before_the_client_is_asked() -> None:
    with worker_process() as worker:
        assert worker.ok("open", 1, store="ok/1", jid=DEVICE) is None
        worker.wait_event(1, "connected")
        asked = len(worker.logs("fake: "))
        for op, args, error in BAD:
            answer = worker.call(op, 1, **args)
            assert not answer.ok, (op, args)
            assert answer.error.startswith(error), (op, args, answer.error)
        # exists is the marker that every earlier log line has arrived.
        assert worker.ok("exists", 1, phone="15550001") is True
        assert len(worker.logs("fake: ")) == asked


def test_the_library_has_what_the_real_client_calls() -> None:
    """A name the library lacks would fail only on a live connection."""
    importlib.import_module("fleetgate_whatsapp.neonize_client")  # undoes the import's effects
    enum = importlib.import_module("neonize.utils.enum")
    client = importlib.import_module("neonize.client").NewClient
    assert {a.name for a in enum.BlocklistAction} >= {"BLOCK", "UNBLOCK"}
    params = {
        "set_group_topic": ["jid", "previous_id", "new_id", "topic"],
        "get_group_invite_link": ["jid", "revoke"],
        "join_group_with_link": ["code"],
        "get_group_info": ["jid"],
        "update_blocklist": ["jid", "action"],
    }
    for name, wanted in params.items():
        assert list(inspect.signature(getattr(client, name)).parameters)[1:] == wanted, name


def test_invite_links_and_whatsapps_refusals_of_them() -> None:
    groups = importlib.import_module("fleetgate_whatsapp.groups")
    assert groups.invite_code("https://chat.whatsapp.com/AbC123xyz") == "AbC123xyz"
    assert groups.invite_code(" https://chat.whatsapp.com/AbC123xyz/ ") == "AbC123xyz"
    for nothing in ("", "AbC123xyz", "https://example.org/AbC", "https://chat.whatsapp.com/a?b"):
        assert groups.invite_code(nothing) == "", nothing
    # What the library says when WhatsApp refuses a link (a revoked one, one of no group).
    revoked = "that group invite link has been revoked: info query returned status 401"
    assert groups.refusal(revoked) == groups.NO_INVITE
    assert groups.refusal("that group invite link is not valid: 406") == groups.NO_INVITE
