"""Notifications (the outbox): queued, claimed by a delivery worker, or dead letters."""

from __future__ import annotations

import enum
from dataclasses import dataclass


class NotificationStatus(enum.StrEnum):
    """Pending until delivered (then deleted) or given up on (dead, kept for replay)."""

    PENDING = "pending"
    DEAD = "dead"


class Lane(enum.IntEnum):
    """Each instance has two queues, delivered in order each: GREEN-API notifications (to
    the webhookUrl, or polled) and Z-API per-event callbacks (each to its own URL)."""

    GREEN = 0
    CALLBACK = 1


@dataclass(frozen=True, slots=True)
class Queued:
    """One queued notification."""

    id: int
    id_instance: int
    type_webhook: str
    body: str
    created_ms: int
    attempts: int


@dataclass(frozen=True, slots=True)
class Claimed:
    """A notification a delivery worker holds, with where to deliver it."""

    item: Queued
    url: str
    # The webhookUrlToken to send, encrypted (crypto.WEBHOOK_TOKEN); None: send none.
    token_cipher: bytes | None


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A notification that could not be delivered in time."""

    item: Queued
    dead_ms: int
    last_error: str
