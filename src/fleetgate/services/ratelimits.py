"""Per-instance, per-method request rates of the GREEN-API instance API (docs/rate-limits.md).

Each method has a rate in requests per second per instance. Requests are counted in windows
aligned to the epoch (one second, or longer for rates below one a second); a request past the
window's allowance is refused with the seconds left until the window ends.
"""

from __future__ import annotations

import logging
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Protocol

from fleetgate.clock import now_ms
from fleetgate.errors import RateLimited
from fleetgate.settings import RateLimitSettings
from fleetgate.storage.db import Database
from fleetgate.storage.repos import ratelimits as repo

log = logging.getLogger(__name__)

# GREEN-API's published limits (spec §4.2), requests per second per instance.
_PUBLISHED: Final = (
    (
        1.0,
        "getSettings setSettings getStateInstance getStatusInstance reboot logout scanqrcode "
        "getWaSettings getChatHistory lastIncomingMessages lastOutgoingMessages createGroup "
        "updateGroupName getGroupData setGroupPicture getDeviceInfo getContacts getContactInfo "
        "setDisappearingChat clearMessagesQueue showMessagesQueue getIncomingStatuses "
        "getOutgoingStatuses getStatusStatistic",
    ),
    (0.1, "setProfilePicture"),
    (3.0, "qr"),
    (5.0, "downloadFile sendTextStatus sendVoiceStatus sendMediaStatus"),
    (
        10.0,
        "getMessage addGroupParticipant removeGroupParticipant setGroupAdmin removeAdmin "
        "leaveGroup readChat checkWhatsapp getAvatar deleteMessage archiveChat unarchiveChat "
        "deleteStatus",
    ),
    (
        50.0,
        "sendMessage sendButtons sendTemplateButtons sendListMessage sendLocation sendLink "
        "sendContact sendFileByUrl sendFileByUpload sendPoll sendTemplate forwardMessages",
    ),
    (100.0, "receiveNotification deleteNotification"),
)
# Methods the published table leaves out, rated like their nearest published neighbour
# (docs/rate-limits.md gives the reasoning).
_CHOSEN: Final = (
    (
        1.0,
        "getStateInstanceHistory getAuthorizationCode updateApiToken startAuthorization "
        "sendAuthorizationCode getMessagesCount getWebhooksCount clearWebhooksQueue "
        "lastIncomingCalls lastOutgoingCalls getChats updateGroupSettings addContact "
        "editContact deleteContact",
    ),
    (10.0, "editMessage sendTyping"),
    (50.0, "uploadFile sendInteractiveButtons sendInteractiveButtonsReply"),
)

RATES: Final[Mapping[str, float]] = MappingProxyType(
    {name: rate for rate, names in (*_PUBLISHED, *_CHOSEN) for name in names.split()}
)
"""Requests per second per instance, keyed by the canonical method name (the route's path
segment after ``/waInstance{idInstance}/``). The one place the limits are written down."""

DEFAULT_RATE: Final = 1.0
"""The rate of an instance method missing from :data:`RATES`."""

# Each process deletes ended windows about this often (jittered so processes spread out).
SWEEP_EVERY_S: Final = 10.0
# Ended windows are kept this much longer, for processes whose clocks run a little behind.
_SWEEP_MARGIN_S: Final = 5
_EPS: Final = 1e-9


@dataclass(frozen=True, slots=True)
class Window:
    """How a rate is counted: at most ``allowed`` requests per ``seconds``-long window."""

    seconds: int
    allowed: int


def window_of(rate: float) -> Window | None:
    """The counting window of a rate in requests per second; None for 0 (unlimited).

    Rates of one a second or more are counted per second, rounded down to whole requests;
    slower rates allow one request per window of 1/rate seconds, rounded up.
    """
    if rate <= 0:
        return None
    if rate + _EPS >= 1:
        return Window(seconds=1, allowed=math.floor(rate + _EPS))
    return Window(seconds=math.ceil(1 / rate - _EPS), allowed=1)


class RatePolicy:
    """The window of every method, after the settings' scale and overrides."""

    def __init__(self, *, scale: float = 1.0, overrides: Mapping[str, float] | None = None) -> None:
        # Names match case-insensitively: env-var keys arrive lower-cased.
        rates = {name.lower(): rate * scale for name, rate in RATES.items()}
        given = {name.lower(): rate for name, rate in (overrides or {}).items()}
        unknown = sorted(set(given) - set(rates))
        if unknown:
            log.warning("rate-limit overrides name unknown methods: %s", ", ".join(unknown))
        rates.update(given)
        self._windows = {name: window_of(rate) for name, rate in rates.items()}
        self._default = window_of(DEFAULT_RATE * scale)
        windows = [w for w in (*self._windows.values(), self._default) if w is not None]
        self.longest_s = max((w.seconds for w in windows), default=1)

    def window_for(self, method: str) -> Window | None:
        """How ``method`` is counted; None if it is not limited."""
        return self._windows.get(method.lower(), self._default)


class HitCounter(Protocol):
    """Where hits are counted: per instance, method and window (its start, epoch seconds)."""

    async def hit(self, *, id_instance: int, method: str, window: int) -> int:
        """Count one hit; the window's count including it."""
        ...

    async def sweep(self, *, before: int) -> None:
        """Forget windows that started before ``before``."""
        ...


class MemoryHits:
    """Counters in this process's memory, for SQLite, where one process serves the API."""

    def __init__(self) -> None:
        # (idInstance, method) -> (current window, hits in it): one entry per pair.
        self._counts: dict[tuple[int, str], tuple[int, int]] = {}

    async def hit(self, *, id_instance: int, method: str, window: int) -> int:
        key = (id_instance, method)
        current, hits = self._counts.get(key, (window, 0))
        hits = hits + 1 if current == window else 1
        self._counts[key] = (window, hits)
        return hits

    async def sweep(self, *, before: int) -> None:
        self._counts = {key: v for key, v in self._counts.items() if v[0] >= before}

    def __len__(self) -> int:
        """How many (instance, method) pairs have a counter."""
        return len(self._counts)


class DatabaseHits:
    """Counters in the ``rate_hits`` table, shared by every API process on one PostgreSQL."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def hit(self, *, id_instance: int, method: str, window: int) -> int:
        async with self.db.transaction() as session:
            return await repo.count_hit(
                session, id_instance=id_instance, method=method, window=window
            )

    async def sweep(self, *, before: int) -> None:
        async with self.db.transaction() as session:
            await repo.delete_before(session, window=before)


class RateLimiter:
    """Counts requests per instance and method, and refuses those over the method's rate."""

    def __init__(
        self, *, policy: RatePolicy, hits: HitCounter, clock: Callable[[], int] = now_ms
    ) -> None:
        self.policy = policy
        self.hits = hits
        self._clock = clock
        self._next_sweep_ms = 0

    async def check(self, *, id_instance: int, method: str) -> None:
        """Count one request of ``method``; raise RateLimited if it is over the rate."""
        window = self.policy.window_for(method)
        if window is None:
            return
        now = self._clock()
        size_ms = window.seconds * 1000
        start_ms = now - now % size_ms
        count = await self.hits.hit(id_instance=id_instance, method=method, window=start_ms // 1000)
        if now >= self._next_sweep_ms:
            await self._sweep(now)
        if count > window.allowed:
            left_ms = start_ms + size_ms - now
            raise RateLimited(max(1, math.ceil(left_ms / 1000)))

    async def _sweep(self, now: int) -> None:
        self._next_sweep_ms = now + int(SWEEP_EVERY_S * 1000 * random.uniform(0.5, 1.5))
        # Every window that started this long ago has ended, whatever its method.
        before = now // 1000 - self.policy.longest_s - _SWEEP_MARGIN_S
        try:
            await self.hits.sweep(before=before)
        except Exception:
            # The request is already counted; rows a failed sweep leaves go with the next one.
            log.warning("could not delete old rate-limit windows", exc_info=True)


def rate_limiter_for(*, db: Database, settings: RateLimitSettings) -> RateLimiter | None:
    """The limiter the settings ask for, or None when rate limits are off.

    On PostgreSQL many API processes share the counters in the database; on SQLite one process
    serves the API, so it counts in memory and writes nothing per request.
    """
    if not settings.enabled:
        return None
    policy = RatePolicy(scale=settings.scale, overrides=settings.overrides)
    hits: HitCounter = MemoryHits() if db.is_sqlite else DatabaseHits(db)
    return RateLimiter(policy=policy, hits=hits)
