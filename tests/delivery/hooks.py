"""What the delivery tests share: the fast-retrying delivery settings and the factory types."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fleetgate.settings import DeliverySettings
from tests.support import Instance

SIGNING_SECRET = "test-signing-secret"
FAST_DELIVERY = DeliverySettings(
    timeout_s=2.0,
    pause_s=0.2,
    give_up_after_s=3.0,
    poll_s=0.2,
    signing_secret=SIGNING_SECRET,
)

Emit = Callable[[Instance, list[int]], Awaitable[None]]
MakeHooked = Callable[..., Awaitable[Instance]]


def seqs(received: list[object]) -> list[int]:
    return [r.body["seq"] for r in received if "seq" in r.body]  # type: ignore[attr-defined]
