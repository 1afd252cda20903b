"""uvicorn's httptools protocol with the limits it lacks: head size, head time, connection count.

uvicorn (0.55) reads a request head for as long as a client sends it and keeps a connection
that sends nothing forever: httptools buffers a header that never ends without bound (eight
40 MiB headers cost the server 320 MB), a connection that trickles a byte now and then or sends
nothing at all is never closed, and uvicorn's ``limit_concurrency`` answers 503 only once a
request head has arrived, so silent connections pile up under it. ``h11`` bounds the head
(``h11_max_incomplete_event_size``) but is several times slower to parse and has no head timer
either. So fleetgate keeps httptools and adds the three checks here, in the protocol, where
bytes and connections are seen before any ASGI code runs.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from fleetgate.settings import HttpSettings

_TOO_LARGE = "Request header fields too large."
_TOO_SLOW = "Request head not received in time."
_TOO_MANY = "Too many open connections; retry later."


class GuardedHttpProtocol(HttpToolsProtocol):
    """One connection: the head must be short and arrive in time, and connections are counted.

    The limits are class attributes, set on a subclass made by :func:`guarded_protocol`
    (uvicorn builds protocols itself, from a class).
    """

    max_head_bytes = 65_536
    head_timeout_s = 10.0
    max_connections = 1000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_open = True  # a request head is being read (or awaited on a new connection)
        self._head_bytes = 0  # bytes received while the head is open (bounds the buffer)
        self._header_bytes = 0  # the parsed headers' size (a whole head may come in one read)
        self._head_too_large = False
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # self is in the set already: more than the cap means this one is over it.
        if len(self.connections) > self.max_connections:
            self._refuse(503, _TOO_MANY)
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Counted after parsing, so a chunk that completes the head (and carries body bytes)
        # never counts against it; the buffer stays under the cap plus one read (256 KiB).
        if self._head_open and not self.transport.is_closing():
            self._head_bytes += len(data)
            if self._head_bytes > self.max_head_bytes:
                self._head_too_large = True
                self._refuse(431, _TOO_LARGE)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_open = True
        self._head_bytes = self._header_bytes = 0
        if self._head_timer is None:
            self._arm_head_timer()

    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._check_head_size()

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._header_bytes += len(name) + len(value) + 4  # ": " and CRLF
        self._check_head_size()

    def _check_head_size(self) -> None:
        if len(self.url) + self._header_bytes > self.max_head_bytes:
            # Raising from a parser callback stops the parse; httptools turns it into the
            # parse error uvicorn answers with send_400_response, below.
            self._head_too_large = True
            raise ValueError("request head too large")

    def send_400_response(self, msg: str) -> None:
        if self._head_too_large:
            self._refuse(431, _TOO_LARGE)
        else:
            super().send_400_response(msg)

    def on_headers_complete(self) -> None:
        self._head_open = False
        self._disarm_head_timer()
        super().on_headers_complete()

    def _arm_head_timer(self) -> None:
        self._head_timer = self.loop.call_later(self.head_timeout_s, self._head_too_slow)

    def _disarm_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if self._head_open and not self.transport.is_closing():
            self._refuse(408, _TOO_SLOW)

    def _refuse(self, status: int, text: str) -> None:
        """Answer ``status`` with a short text and close, reading nothing more."""
        self._disarm_head_timer()
        body = text.encode("ascii")
        self.transport.write(
            b"".join(
                (
                    STATUS_LINE[status],
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: %d\r\n" % len(body),
                    b"connection: close\r\n\r\n",
                    body,
                )
            )
        )
        self.transport.close()


def guarded_protocol(http: HttpSettings) -> type[GuardedHttpProtocol]:
    """The protocol class to hand uvicorn (``http=``), with the limits of ``http``."""
    return type(
        "FleetgateHttpProtocol",
        (GuardedHttpProtocol,),
        {
            "max_head_bytes": http.max_head_bytes,
            "head_timeout_s": http.head_timeout_s,
            "max_connections": http.max_connections,
        },
    )
