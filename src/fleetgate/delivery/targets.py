"""Where webhooks may go: refuse loopback and private networks unless the operator allows them.

A URL's host is resolved once, every address it resolves to is checked, and the delivery then
connects only to those addresses (delivery/http.py pins them), so a DNS answer that changes
between the check and the connection (DNS rebinding) cannot send a webhook anywhere unchecked.
Resolutions are kept for a few seconds: a busy host costs one look-up per ``cache_s``, and an
IP address in the URL none at all.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# NAT64 (RFC 6052) addresses carry an IPv4 address in their last 32 bits.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
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
        host = parsed.raw_host.decode("ascii")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        addresses = await self._resolve(host, port)
        for address in addresses:
            self._check_address(ipaddress.ip_address(address))
        return Target(parsed, host, port, addresses)

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

    def _check_address(self, ip: IPAddress) -> None:
        for candidate in _embedded(ip):
            self._check_one(candidate)

    def _check_one(self, ip: IPAddress) -> None:
        if ip.is_unspecified:
            # 0.0.0.0 and :: reach this host: never a webhook target, whatever is allowed.
            raise TargetRefused(f"webhook target {ip} is an unspecified address")
        if ip.is_loopback:
            if not self.allow_loopback:
                raise TargetRefused(f"webhook target {ip} is a loopback address")
            return
        if not ip.is_global or ip.is_multicast:
            if not self.allow_private:
                raise TargetRefused(f"webhook target {ip} is a private or reserved address")


def _embedded(ip: IPAddress) -> list[IPAddress]:
    """The address, and any IPv4 address an IPv6 one carries (mapped, 6to4, Teredo, NAT64)."""
    if isinstance(ip, ipaddress.IPv4Address):
        return [ip]
    if ip.ipv4_mapped is not None:
        return [ip.ipv4_mapped]
    found: list[IPAddress] = [ip]
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    if ip in _NAT64:
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    return found
