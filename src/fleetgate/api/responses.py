"""JSON responses rendered with orjson (compact, fast, key order kept)."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.responses import JSONResponse


class OrjsonResponse(JSONResponse):
    """A JSON response rendered compactly by orjson."""

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)
