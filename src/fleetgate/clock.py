"""Time as the storage layer keeps it (UTC epoch milliseconds) and as the wire shows it."""

from __future__ import annotations

import time

DAY_MS = 86_400_000
GREEN_NOT_SET = "0001-01-01T00:00:00"


def now_ms() -> int:
    """Current UTC time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def green_time(ms: int | None) -> str:
    """Format epoch ms as GREEN-API's zone-less ``YYYY-MM-DDTHH:MM:SS`` (UTC)."""
    if ms is None:
        return GREEN_NOT_SET
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms // 1000))
