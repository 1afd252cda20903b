"""Where webhooks may go: refuse loopback and private networks unless the operator allows them.

A URL's host is resolved once, every address it resolves to is checked, and the delivery then
connects only to those addresses (delivery/http.py pins them), so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot send a webhook anywhere unchecked.
Resolutions are kept for a few seconds: a busy host costs one look-up per ``cache_s``, and an
IP address in the URL none at all.

Python 3.11's ``ipaddress`` calls a few IPv6 ranges global that are not: they are listed in
``_NOT_PUBLIC_V6`` and treated as private. Those among them that carry an IPv4 address are
also checked by that address, so each must pass both checks (see docs/security.md).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpcore
import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# Ranges that carry an IPv4 address in their last 32 bits: NAT64 (RFC 6052), local-use NAT64
# (RFC 8215, taken with a /96 layout, the strictest reading), IPv4-compatible (deprecated,
# RFC 4291; :: and ::1 excepted) and IPv4-translated (SIIT, RFC 2765).
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_LOCAL_NAT64 = ipaddress.IPv6Network("64:ff9b:1::/48")
_COMPATIBLE = ipaddress.IPv6Network("::/96")
_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_EMBEDDING = (_NAT64, _LOCAL_NAT64, _COMPATIBLE, _TRANSLATED)
# Not globally reachable, though ``is_global`` says so on Python 3.11: the three above (all but
# the well-known NAT64 prefix, which is public) and site-local (deprecated, RFC 3879).
_NOT_PUBLIC_V6 = (_LOCAL_NAT64, _COMPATIBLE, _TRANSLATED, ipaddress.IPv6Network("fec0::/10"))
_CACHE_MAX = 10_000


class TargetRefused(Exception):
    """The webhook URL points somewhere fleetgate must not send to."""


@dataclass(frozen=True, slots=True)
class Target:
    """A checked webhook URL: connect to ``addresses`` only, whatever DNS says later."""

    url: httpx.URL
    host: str  # as the HTTP client sees it (IDNA-encoded, IPv6 without brackets)
    port: int
    addresses: tuple[str, ...]
    # Every address is public. A failure at a non-public one (allowed by the operator) is
    # reported in one fixed text, so errors do not map which local ports are open.
    public: bool = True


class TargetPolicy:
    """Which webhook targets are allowed; resolves and checks them (see the module docstring)."""

    def __init__(self, *, allow_loopback: bool, allow_private: bool, cache_s: float = 5.0) -> None:
        self.allow_loopback = allow_loopback
        self.allow_private = allow_private
        self.cache_s = cache_s
        self.lookups = 0  # resolver calls made (each cache miss on a host name)
        self._cache: dict[tuple[str, int], tuple[float, tuple[str, ...]]] = {}

    async def check(self, url: str) -> Target:
        """Resolve the host; TargetRefused if the URL is malformed or any address not allowed."""
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, ValueError, TypeError):
            raise TargetRefused("webhook URL is not a valid URL") from None
        if parsed.scheme not in ("http", "https") or not parsed.raw_host:
            raise TargetRefused("webhook URL must be http:// or https:// with a host")
        if parsed.userinfo or "@" in urlsplit(url).netloc:
            # A user name in a URL is a classic way to disguise its real host.
            raise TargetRefused("webhook URL must not contain a user name or password")
        host = parsed.raw_host.decode("ascii")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = await self._resolve(host, port)
        public = True
        for address in addresses:
            public = self._check_address(ipaddress.ip_address(address)) and public
        return Target(parsed, host, port, addresses, public)

    async def _resolve(self, host: str, port: int) -> tuple[str, ...]:
        try:
            return (str(ipaddress.ip_address(host)),)
        except ValueError:
            pass
        now = time.monotonic()
        cached = self._cache.get((host, port))
        if cached is not None and cached[0] > now:
            return cached[1]
        self.lookups += 1
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {host}: {exc}") from None
        # Scope ids (fe80::1%eth0) are dropped: such addresses are link-local and refused anyway.
        addresses = tuple(dict.fromkeys(str(info[4][0]).split("%")[0] for info in infos))
        if not addresses:
            raise TargetRefused(f"cannot resolve {host}: no addresses")
        if self.cache_s > 0:
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[(host, port)] = (now + self.cache_s, addresses)
        return addresses

    def _check_address(self, ip: IPAddress) -> bool:
        """TargetRefused unless allowed; True if the address (and all it carries) is public."""
        public = True
        for candidate in _embedded(ip):
            public = self._check_one(candidate) and public
        return public

    def _check_one(self, ip: IPAddress) -> bool:
        if ip.is_unspecified:
            # 0.0.0.0 and :: reach this host: never a webhook target, whatever is allowed.
            raise TargetRefused(f"webhook target {ip} is an unspecified address")
        if ip.is_loopback:
            if not self.allow_loopback:
                raise TargetRefused(f"webhook target {ip} is a loopback address")
            return False
        if not is_public(ip):
            if not self.allow_private:
                raise TargetRefused(f"webhook target {ip} is a private or reserved address")
            return False
        return True


def is_public(ip: IPAddress) -> bool:
    """Globally reachable, counting the IPv6 ranges Python 3.11 misjudges as not."""
    if ip.is_multicast or not ip.is_global:
        return False
    return not (isinstance(ip, ipaddress.IPv6Address) and any(ip in n for n in _NOT_PUBLIC_V6))


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address, and any IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64,
    IPv4-compatible, IPv4-translated)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    found: list[IPAddress] = [ip]
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if int(ip) > 1 and any(ip in net for net in _EMBEDDING):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found


# The target of the request this task is sending; the backend connects to its addresses.
_PINNED: ContextVar[Target | None] = ContextVar("fleetgate_pinned_target", default=None)


class PinnedBackend(httpcore.AsyncNetworkBackend):
    """Opens TCP connections only to the checked addresses of the request being sent."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        target = _PINNED.get()
        if target is None or (host, port) != (target.host, target.port):
            raise TargetRefused(f"no checked addresses for {host}:{port}")
        failure: Exception | None = None
        for address in target.addresses:
            try:
                return await self._inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        assert failure is not None  # a Target always has an address
        raise failure

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise TargetRefused("never a Unix socket")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class PinnedTransport(httpx.AsyncHTTPTransport):
    """An httpx transport whose connections go only to the pinned target's addresses."""

    def __init__(self, limits: httpx.Limits, ssl_context: ssl.SSLContext) -> None:
        super().__init__(limits=limits, verify=ssl_context, trust_env=False)
        # httpx has no parameter for the network backend: its pool (not opened yet, so
        # nothing leaks) is replaced by the same pool on the pinning backend.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=ssl_context,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=PinnedBackend(),
        )


@contextmanager
def pinned_to(target: Target) -> Iterator[None]:
    """Within this block, a PinnedBackend of this task connects to ``target``'s addresses."""
    token = _PINNED.set(target)
    try:
        yield
    finally:
        _PINNED.reset(token)
