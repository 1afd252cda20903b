"""What every error answer must look like, façade by façade (shared by the fuzz tests)."""

from __future__ import annotations

import re
from typing import Any

import orjson

GREEN_PREFIXES = ("/partner/", "/waInstance")
PLAIN_PREFIXES = ("/instances", "/sandbox", "/admin")
# The contacts methods' own documented refusals: {"message": "<text>"} (docs/green-api.md).
MESSAGE_BODY_METHODS = re.compile(r"/waInstance[^/]*/(?:add|edit|delete)Contact/", re.IGNORECASE)


def facade(path: str) -> str:
    """Which façade answers ``path``: green, plain ({"error"}) or other."""
    if path.startswith(GREEN_PREFIXES):
        return "green"
    if path.startswith(PLAIN_PREFIXES) and path.split("/")[1] in ("instances", "sandbox", "admin"):
        return "plain"
    return "other"


def problem(path: str, status: int, raw: bytes) -> str | None:
    """Why an answer breaks the rules (a 5xx, or an error outside its façade's format)."""
    if status >= 500:
        return f"server error {status}"
    if status < 400:
        return None
    try:
        body: Any = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return f"{status} error body is not JSON"
    kind = facade(path)
    if kind == "green" and MESSAGE_BODY_METHODS.match(path) and status in (400, 404):
        documented = isinstance(body, dict) and set(body) == {"message"} and body["message"]
        if documented:
            return None
    if kind == "green":
        ok = (
            isinstance(body, dict)
            and set(body) == {"code", "description"}
            and isinstance(body["code"], int)
            and isinstance(body["description"], str)
            and body["description"] != ""
        )
        return None if ok else f"{status} not a GREEN-API error: {raw[:200]!r}"
    if kind == "plain":
        ok = isinstance(body, dict) and set(body) == {"error"} and isinstance(body["error"], str)
        return None if ok else f'{status} not an {{"error"}} body: {raw[:200]!r}'
    return None
