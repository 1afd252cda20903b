"""Fetching a file that a message names by URL, before the worker uploads it to WhatsApp.

The URL comes from an API caller, so it is fetched the way webhooks are sent: its host is
checked by fleetgate's ``TargetPolicy`` (no loopback or private address unless the operator
allows it) and the connection goes only to the addresses that check resolved, whatever DNS
says a moment later. The policy's check is a coroutine; a worker's call thread runs it with
``asyncio.run`` (it has no loop of its own) and then downloads synchronously with httpcore
through a backend that connects to the checked addresses only. Redirects are followed a few
times, each target checked anew. The body is bounded in size and the whole fetch in time.

The library's own helpers are never given a URL: they fetch it with no time limit, and open
any other string as a local path.
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message as MimeHeaders
from urllib.parse import unquote, urljoin, urlsplit

import certifi
import httpcore

from fleetgate.targets import Target, TargetPolicy, TargetRefused
from fleetgate_whatsapp.client import ClientError

_REDIRECTS = 3


@dataclass(frozen=True, slots=True)
class Fetched:
    content: bytes
    content_type: str  # as the server said, without parameters ("" when it did not)
    file_name: str  # from Content-Disposition or the URL's last path segment ("" if none)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects only to the addresses the policy checked for this one target."""

    def __init__(self, target: Target) -> None:
        self._target = target
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if (host, port) != (self._target.host, self._target.port):
            raise TargetRefused(f"no checked addresses for {host}:{port}")
        failure: Exception = TargetRefused("no address to connect to")
        for address in self._target.addresses:
            try:
                return self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                failure = exc
        raise failure

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise TargetRefused("media never comes from a Unix socket")


class MediaFetcher:
    """Fetches media URLs within a size and time bound, through the target policy."""

    def __init__(self, policy: TargetPolicy, *, max_bytes: int, timeout_s: float) -> None:
        self.policy = policy
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s
        self._ssl = ssl.create_default_context(cafile=certifi.where())

    def fetch(self, url: str) -> Fetched:
        """The file at ``url``; ClientError with a reason the API caller can act on."""
        deadline = time.monotonic() + self.timeout_s
        for _ in range(_REDIRECTS + 1):
            try:
                target = asyncio.run(self.policy.check(url))
            except TargetRefused as exc:
                raise ClientError(f"file URL refused: {exc}") from None
            fetched, location = self._get(target, deadline)
            if fetched is not None:
                return fetched
            url = urljoin(url, location)
        raise ClientError(f"file URL redirects more than {_REDIRECTS} times")

    def _get(self, target: Target, deadline: float) -> tuple[Fetched | None, str]:
        """The file, or None and where the server redirects to."""
        left = deadline - time.monotonic()
        timeouts = {"connect": left, "read": left, "write": left, "pool": left}
        try:
            with (
                httpcore.ConnectionPool(
                    ssl_context=self._ssl, network_backend=_PinnedBackend(target)
                ) as pool,
                pool.stream(
                    "GET",
                    str(target.url),
                    headers={"Accept": "*/*", "User-Agent": "fleetgate"},
                    extensions={"timeout": timeouts},
                ) as response,
            ):
                headers = {k.decode("latin-1").lower(): v for k, v in response.headers}
                location = headers.get("location", b"").decode("latin-1")
                if response.status in (301, 302, 303, 307, 308) and location:
                    return None, location
                if response.status != 200:
                    raise ClientError(f"file URL answered HTTP {response.status}")
                body = self._read(response, headers, deadline)
        except (httpcore.TimeoutException, TimeoutError):
            raise ClientError(f"file URL took over {self.timeout_s:g} s") from None
        except (httpcore.NetworkError, httpcore.ProtocolError, TargetRefused, OSError) as exc:
            raise ClientError(f"file URL could not be fetched: {exc}") from None
        content_type = headers.get("content-type", b"").decode("latin-1")
        disposition = headers.get("content-disposition", b"").decode("latin-1")
        return Fetched(
            content=body,
            content_type=content_type.split(";")[0].strip().lower(),
            file_name=_file_name(disposition, str(target.url)),
        ), ""

    def _read(
        self, response: httpcore.Response, headers: dict[str, bytes], deadline: float
    ) -> bytes:
        announced = headers.get("content-length", b"")
        if announced.isdigit() and int(announced) > self.max_bytes:
            raise ClientError(f"file is over {self.max_bytes} bytes")
        body = bytearray()
        for chunk in response.iter_stream():
            body += chunk
            if len(body) > self.max_bytes:
                raise ClientError(f"file is over {self.max_bytes} bytes")
            if time.monotonic() > deadline:
                raise ClientError(f"file URL took over {self.timeout_s:g} s")
        return bytes(body)


def _file_name(disposition: str, url: str) -> str:
    if disposition:
        headers = MimeHeaders()
        headers["content-disposition"] = disposition
        name = headers.get_filename()
        if name:
            return name.replace("/", "_").replace("\\", "_")[:200]
    segment = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return segment[:200]
