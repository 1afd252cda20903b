"""Where webhooks may go: refuse loopback and private networks unless the operator allows them."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit


class TargetRefused(Exception):
    """The webhook URL points somewhere fleetgate must not send to."""


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    allow_loopback: bool
    allow_private: bool

    async def check(self, url: str) -> None:
        """Resolve the URL's host and refuse it if any address is not allowed."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise TargetRefused("webhook URL must be http:// or https:// with a host")
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                parts.hostname,
                parts.port or (443 if parts.scheme == "https" else 80),
                type=socket.SOCK_STREAM,
            )
        except OSError as exc:
            raise TargetRefused(f"cannot resolve {parts.hostname}: {exc}") from None
        for info in infos:
            self._check_address(ipaddress.ip_address(info[4][0]))

    def _check_address(self, ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback:
            if not self.allow_loopback:
                raise TargetRefused(f"webhook target {ip} is a loopback address")
            return
        if (
            ip.is_private
            or ip.is_link_local
            or ip.is_reserved
            or ip.is_multicast
            or ip.is_unspecified
        ):
            if not self.allow_private:
                raise TargetRefused(f"webhook target {ip} is a private or reserved address")
