"""Old home of the Z-API callbacks, now services/zapi_callbacks.py (rendering) and
api/zapi/wire.py (the *CallbackUrl keys a Z-API client reads)."""

# compat: removed once api/ and tests/ import from fleetgate.domain
from __future__ import annotations

import importlib
from typing import Any

from fleetgate.services.zapi_callbacks import (
    PRESENCE_EVENT,
    message_content,
    zaap_id,
    zapi_callbacks,
)

__all__ = ["PRESENCE_EVENT", "message_content", "zaap_id", "zapi_callbacks"]


def __getattr__(name: str) -> Any:
    # callback_urls moved up to the Z-API façade; a plain import would point services at api.
    if name == "callback_urls":
        return importlib.import_module("fleetgate.api.zapi.wire").callback_urls
    raise AttributeError(name)
