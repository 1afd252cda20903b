"""Calls into an instance's engine session, which lives in whichever runner owns it.

The API writes a call row and signals the runner; the runner answers in the row and signals
back. This works the same with one process on SQLite and with many processes on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import orjson

from fleetgate.clock import now_ms
from fleetgate.errors import InvalidInput, NotReady
from fleetgate.storage.db import Database
from fleetgate.storage.repos import calls as repo
from fleetgate.storage.signals import Signals

# Methods a session answers through a call.
QR = "qr"
PAIRING_CODE = "pairing_code"
READ_CHAT = "read_chat"
EXISTS = "exists"
# Group calls (engines/base.py GroupSession), by the session method each one runs.
CREATE_GROUP = "create_group"
GROUP_DATA = "group_data"
UPDATE_GROUP_NAME = "update_group_name"
ADD_GROUP_PARTICIPANT = "add_group_participant"
REMOVE_GROUP_PARTICIPANT = "remove_group_participant"
SET_GROUP_ADMIN = "set_group_admin"
REMOVE_GROUP_ADMIN = "remove_group_admin"
LEAVE_GROUP = "leave_group"
SET_GROUP_PICTURE = "set_group_picture"
UPDATE_GROUP_SETTINGS = "update_group_settings"
# More group calls (optional: engines/base.py GroupAdminSession).
GROUP_METADATA = "group_metadata"
JOINED_GROUPS = "joined_groups"
UPDATE_GROUP_DESCRIPTION = "update_group_description"
UPDATE_GROUP_POLICY = "update_group_policy"
RESET_GROUP_INVITE = "reset_group_invite"
GROUP_INVITE_INFO = "group_invite_info"
JOIN_GROUP = "join_group"
DECIDE_GROUP_REQUEST = "decide_group_request"
# Chat marks and blocking (optional: engines/base.py ChatMarkSession).
MODIFY_CHAT = "modify_chat"
BLOCK_CONTACT = "block_contact"
# Chats and sent messages (optional: engines/base.py ChatSession).
DELETE_MESSAGE = "delete_message"
EDIT_MESSAGE = "edit_message"
SEND_TYPING = "send_typing"
ARCHIVE_CHAT = "archive_chat"
SET_DISAPPEARING = "set_disappearing"
SEND_STATUS = "send_status"
DELETE_STATUS = "delete_status"
STATUS_STATISTIC = "status_statistic"
STATUSES = "statuses"
SET_PROFILE_PICTURE = "set_profile_picture"

RUNNER_CHANNEL = "runner"
DONE_CHANNEL = "call-done"
CALL_TIMEOUT_S = 10.0
# A call nobody answered within this time is dropped (its caller has long given up).
CALL_TTL_MS = 60_000
STARTING_TEXT = "instance in starting process try later"


async def call_engine(
    *,
    db: Database,
    signals: Signals,
    id_instance: int,
    method: str,
    args: dict[str, Any],
    timeout: float = CALL_TIMEOUT_S,
) -> Any:
    """Run ``method`` on the instance's session and return its answer.

    Raises InvalidInput with the engine's text when the session refused, NotReady when no
    runner answered in time (the instance is starting or its runner is down).
    """
    async with db.transaction() as session:
        call_id = await repo.insert(
            session,
            id_instance=id_instance,
            method=method,
            args=orjson.dumps(args).decode(),
            now=now_ms(),
        )
        await signals.send(session, RUNNER_CHANNEL, str(id_instance))
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with signals.waiter(DONE_CHANNEL, str(call_id)) as done:
                async with db.reading() as session:
                    result = await repo.result_of(session, call_id)
                if result is not None:
                    return _unpack(result)
                left = deadline - time.monotonic()
                if left <= 0:
                    raise NotReady(STARTING_TEXT)
                # Poll as well: a signal lost between processes must only cost a little time.
                try:
                    await asyncio.wait_for(done.wait(), min(left, 0.5))
                except TimeoutError:
                    pass
    finally:
        async with db.transaction() as session:
            await repo.remove(session, call_id)


def _unpack(result: str) -> Any:
    data = orjson.loads(result)
    if "error" in data:
        raise InvalidInput(str(data["error"]))
    return data["ok"]


def pack_ok(value: Any) -> str:
    return orjson.dumps({"ok": value}).decode()


def pack_error(text: str) -> str:
    return orjson.dumps({"error": text}).decode()
