"""Brute-force resistance for token checks: failure counters per client and per target.

Every failed token check adds one to a leaky bucket of the client (its IP address; an IPv6
client by its /64 network, which one subscriber usually holds whole) and, when the check
names one, of the target (an instance id). Buckets drain at ``limit / window_s`` per second,
so a client that stops failing is forgotten within the window.

- A client whose bucket is full is refused before its token is looked at, so a correct guess
  made during a lock-out confirms nothing.
- A target whose bucket is full (failures from anywhere, which stops guessing spread over many
  addresses) refuses every client except those that authenticated on it successfully within
  ``known_for_s`` (24 h by default), before the attack or during it: the instance's own users
  keep working, so a few addresses sending wrong tokens cannot lock them out.

Successful checks are never counted; each refreshes the (target, client) pair it proves, a
few dictionary operations. Everything lives in the memory of each API process (see
docs/security.md for what that means with several), bounded: ``max_tracked`` buckets of each
kind, the least recently failing dropped first, and ``max_known`` remembered pairs, the least
recently successful dropped first.
"""

from __future__ import annotations

import ipaddress
import math
import time
from collections.abc import Callable, Sequence

from fleetgate.errors import TooManyFailures
from fleetgate.settings import AuthLimitSettings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
_V6_BUCKET_PREFIX = 64


class _Bucket:
    __slots__ = ("at", "level")

    def __init__(self, at: float) -> None:
        self.level = 0.0
        self.at = at


class _Buckets:
    """Leaky buckets by key: ``limit`` failures fill one, and it drains in ``window_s``."""

    def __init__(self, limit: int, window_s: float, max_keys: int) -> None:
        self.limit = limit
        self.rate = limit / window_s
        self.max_keys = max_keys
        self.items: dict[str, _Bucket] = {}

    def wait_s(self, bucket: _Bucket, now: float) -> int:
        """Seconds until the bucket has room for one more failure (0: it has now)."""
        level = bucket.level - (now - bucket.at) * self.rate
        excess = level - (self.limit - 1)
        return 0 if excess <= 0 else max(1, math.ceil(excess / self.rate))

    def add(self, key: str, now: float) -> _Bucket:
        bucket = self.items.pop(key, None)
        if bucket is None:
            bucket = _Bucket(now)
            if len(self.items) >= self.max_keys:
                del self.items[next(iter(self.items))]
        # Re-inserted, so the dict's order is the order of last failure (oldest first out).
        self.items[key] = bucket
        bucket.level = max(0.0, bucket.level - (now - bucket.at) * self.rate) + 1.0
        bucket.at = now
        return bucket


class AuthLimiter:
    """Per-client and per-target failure limits of one process."""

    def __init__(
        self,
        *,
        client_failures: int,
        target_failures: int,
        window_s: float,
        max_tracked: int,
        known_for_s: float = 86_400.0,
        max_known: int = 100_000,
        trusted_proxies: Sequence[Network] = (),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clients = _Buckets(client_failures, window_s, max_tracked)
        self._targets = (
            _Buckets(target_failures, window_s, max_tracked) if target_failures else None
        )
        # (target, client) -> when the client last authenticated on the target; the dict's
        # order is the order of last success (oldest first out).
        self._known: dict[tuple[str, str], float] = {}
        self._known_for_s = known_for_s
        self._max_known = max_known
        self._trusted = tuple(trusted_proxies)
        self._clock = clock

    @property
    def trusts_proxies(self) -> bool:
        """Whether X-Forwarded-For can matter (some proxy is trusted)."""
        return bool(self._trusted)

    def client_key(self, peer: str | None, forwarded_for: str | None = None) -> str:
        """The bucket of the client: the peer address, or the address a trusted proxy saw.

        X-Forwarded-For is read right to left, skipping trusted proxies; the first other
        address is the client. It is ignored when the peer itself is not a trusted proxy.
        """
        host = peer or "unknown"
        if forwarded_for and self._trusted and self._is_trusted(host):
            for hop in reversed(forwarded_for.split(",")):
                hop = hop.strip()
                if _parse(hop) is None:
                    break  # garbage from further out: the last good address stands
                host = hop
                if not self._is_trusted(hop):
                    break
        return _bucket_of(host)

    def admit(self, client: str, target: str | None = None) -> None:
        """Refuse (TooManyFailures) a client or target that failed too often; else pass."""
        now = self._clock()
        bucket = self._clients.items.get(client)
        if bucket is not None:
            wait = self._clients.wait_s(bucket, now)
            if wait:
                raise TooManyFailures(wait)
        if target is None or self._targets is None:
            return
        attacked = self._targets.items.get(target)
        if attacked is None:
            return
        wait = self._targets.wait_s(attacked, now)
        if wait and not self._is_known(client, target, now):
            raise TooManyFailures(wait)

    def failed(self, client: str, target: str | None = None) -> None:
        """Count a failed token check."""
        now = self._clock()
        self._clients.add(client, now)
        if target is not None and self._targets is not None:
            self._targets.add(target, now)
            # A known client that guesses wrong is known no more.
            self._known.pop((target, client), None)

    def succeeded(self, client: str, target: str | None = None) -> None:
        """Remember that the client holds the target's token (it then passes a target lock)."""
        if target is None or self._targets is None or self._known_for_s <= 0:
            return
        key = (target, client)
        # Popped and re-inserted: the dict's order stays the order of last success.
        if self._known.pop(key, None) is None and len(self._known) >= self._max_known:
            del self._known[next(iter(self._known))]
        self._known[key] = self._clock()

    def _is_known(self, client: str, target: str, now: float) -> bool:
        at = self._known.get((target, client))
        return at is not None and now - at <= self._known_for_s

    def _is_trusted(self, host: str) -> bool:
        ip = _parse(host)
        return ip is not None and any(ip in net for net in self._trusted)


def _parse(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def _bucket_of(host: str) -> str:
    if ":" not in host:
        return host  # IPv4 (or no address at all): the address itself
    ip = _parse(host)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((ip, _V6_BUCKET_PREFIX), strict=False))
    return str(ip) if ip is not None else host


def auth_limiter_for(settings: AuthLimitSettings) -> AuthLimiter | None:
    """The limiter the settings ask for (None when turned off)."""
    if not settings.enabled:
        return None
    return AuthLimiter(
        client_failures=settings.client_failures,
        target_failures=settings.target_failures,
        window_s=settings.window_s,
        max_tracked=settings.max_tracked,
        known_for_s=settings.known_client_hours * 3600,
        max_known=settings.max_known_clients,
        trusted_proxies=settings.trusted_proxies,
    )
