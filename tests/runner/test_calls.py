"""The engine calls' table: a session without an optional method answers NOT_SUPPORTED."""

from __future__ import annotations

import json
from typing import Any, cast

from fleetgate.engines.base import NOT_SUPPORTED, Session
from fleetgate.runner import calls
from fleetgate.services import engine_calls


class BareSession:
    """A session with none of the optional methods (only what every engine has)."""

    async def exists(self, phone: str) -> bool:
        return phone == "79001234567"


async def answer(method: str, args: dict[str, Any]) -> Any:
    return json.loads(await calls.answer(cast(Session, BareSession()), method, args))


async def test_optional_chat_calls_answer_not_supported() -> None:
    chat = {"chatId": "79001234567@c.us"}
    for method, args in (
        (engine_calls.DELETE_MESSAGE, chat | {"idMessage": "A", "forEveryone": True}),
        (engine_calls.EDIT_MESSAGE, chat | {"idMessage": "A", "idEdit": "B", "text": "t"}),
        (engine_calls.SEND_TYPING, chat | {"recording": True, "durationMs": 1000}),
        (engine_calls.ARCHIVE_CHAT, chat | {"archived": False}),
        (engine_calls.SET_DISAPPEARING, chat | {"expiration": 0}),
    ):
        assert await answer(method, args) == {"error": NOT_SUPPORTED}, method
    # The methods every engine has still answer, and an unknown call is refused by name.
    assert await answer(engine_calls.EXISTS, {"phone": "79001234567"}) == {"ok": True}
    assert await answer("no_such_call", {}) == {"error": "unknown engine call no_such_call"}
