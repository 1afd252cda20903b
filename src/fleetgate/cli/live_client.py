"""The GREEN-API wire as `fleetgate whatsapp check` speaks it: plain HTTP to a running server.

The check proves what a client sees, so it goes through the same routes an official client
uses and nothing else (no database, no engine). Tokens travel in URL paths, as the wire
wants; every text this module hands back for printing has them blanked out.
"""

from __future__ import annotations

import time
from typing import Any

import httpx

# GREEN-API asks callers to retry server errors; these are the statuses treated so.
_RETRIED = frozenset({500, 502, 503, 504})
RETRY_PAUSE_S = 1.0
# Headroom over a long poll's own wait before the HTTP read gives up.
LONG_POLL_MARGIN_S = 15.0
REQUEST_TIMEOUT_S = 30.0
# receiveNotification's receiveTimeout must lie in 5..60 (GREEN-API §3.1).
RECEIVE_MIN_S, RECEIVE_MAX_S = 5, 20


class CheckFailed(Exception):
    """A step cannot pass; the message is written for the person running the check."""


class Wire:
    """One HTTP client to the server, with 429s waited out and server errors retried until
    the caller's deadline (a step of the check has one)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url.rstrip("/")
        self._secrets: list[str] = []
        self._http = httpx.Client(base_url=self.base_url, timeout=REQUEST_TIMEOUT_S)

    def close(self) -> None:
        self._http.close()

    def hide(self, secret: str) -> None:
        """Blank ``secret`` out of every text handed back from now on."""
        if secret:
            self._secrets.append(secret)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def once(self, verb: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, no retry; a transport error becomes CheckFailed."""
        try:
            return self._http.request(verb, path, **kwargs)
        except httpx.HTTPError as exc:
            raise CheckFailed(self._unreachable(exc)) from None

    def call(
        self, verb: str, path: str, *, deadline: float, read_s: float | None = None, **kwargs: Any
    ) -> httpx.Response:
        """A request retried on 429 (after Retry-After), 5xx and transport errors until
        ``deadline`` (time.monotonic()); then CheckFailed with the last reason."""
        timeout = httpx.Timeout(REQUEST_TIMEOUT_S, read=read_s or REQUEST_TIMEOUT_S)
        while True:
            try:
                r = self._http.request(verb, path, timeout=timeout, **kwargs)
            except httpx.HTTPError as exc:
                reason, pause = self._unreachable(exc), RETRY_PAUSE_S
            else:
                if r.status_code == 429:
                    reason, pause = "the server kept answering 429", _retry_after(r)
                elif r.status_code in _RETRIED:
                    reason, pause = f"the server answered {describe(r)}", RETRY_PAUSE_S
                else:
                    return r
            if time.monotonic() + pause > deadline:
                raise CheckFailed(reason)
            time.sleep(pause)

    def _unreachable(self, exc: httpx.HTTPError) -> str:
        detail = self.redact(str(exc)) or "no detail"
        return f"cannot reach the server at {self.base_url} ({type(exc).__name__}: {detail})"


def _retry_after(r: httpx.Response) -> float:
    value = r.headers.get("retry-after", "")
    return float(value) if value.isdigit() and int(value) <= 60 else RETRY_PAUSE_S


def describe(r: httpx.Response) -> str:
    """An answer in a few words: its status and, if it has one, the description it gives."""
    body = body_of(r)
    text = body.get("description") or body.get("message")
    return f"HTTP {r.status_code}" + (f" {text!r}" if isinstance(text, str) and text else "")


class InstanceApi:
    """The instance API of one instance: ``/waInstance{id}/{method}/{token}``."""

    def __init__(self, wire: Wire, id_instance: int, token: str) -> None:
        self.wire = wire
        self.id = id_instance
        self._token = token
        wire.hide(token)

    def request(
        self, verb: str, method: str, *, deadline: float, tail: str = "", **kwargs: Any
    ) -> httpx.Response:
        """A call of ``method``; a refused token or an unknown instance fails the step."""
        path = f"/waInstance{self.id}/{method}/{self._token}{tail}"
        r = self.wire.call(verb, path, deadline=deadline, **kwargs)
        if r.status_code == 401:
            raise CheckFailed(
                f"the server refused the token of instance {self.id} (401 Unauthorized): "
                "check --token, or whether the token was replaced (updateApiToken)"
            )
        if r.status_code == 403:
            raise CheckFailed(
                f"the server has no instance {self.id} (403 Forbidden: unknown, deleted or "
                "expired): check --instance and --url"
            )
        return r

    def json(self, verb: str, method: str, *, deadline: float, **kwargs: Any) -> Any:
        """The JSON answer of a call that must succeed (HTTP 200)."""
        r = self.request(verb, method, deadline=deadline, **kwargs)
        if r.status_code != 200:
            raise CheckFailed(f"{method} failed: {describe(r)}")
        return r.json()

    def receive(self, *, deadline: float) -> dict[str, Any] | None:
        """One long poll of receiveNotification: the queue head, or None when it stayed empty."""
        left = int(deadline - time.monotonic()) + 1
        wait = min(max(left, RECEIVE_MIN_S), RECEIVE_MAX_S)
        item = self.json(
            "GET",
            "receiveNotification",
            deadline=deadline + wait,
            params={"receiveTimeout": wait},
            read_s=wait + LONG_POLL_MARGIN_S,
        )
        return item if isinstance(item, dict) else None

    def acknowledge(self, receipt_id: int, *, deadline: float) -> None:
        """deleteNotification: the head leaves the queue (``false``: it had already gone)."""
        self.json("DELETE", "deleteNotification", deadline=deadline, tail=f"/{receipt_id}")


class PartnerApi:
    """The partner API: ``/partner/{method}/{partnerToken}``, errors as HTTP 200 bodies."""

    def __init__(self, wire: Wire, token: str) -> None:
        self.wire = wire
        self._token = token
        wire.hide(token)

    def call(self, method: str, body: dict[str, Any], *, deadline: float) -> dict[str, Any]:
        r = self.wire.call("POST", f"/partner/{method}/{self._token}", json=body, deadline=deadline)
        answer = r.json() if r.status_code == 200 else None
        if isinstance(answer, dict) and answer.get("code") == 401:
            raise CheckFailed(
                "the server refused the partner token (Unauthorized): on the server, create a "
                "partner with `fleetgate partner create NAME --engine whatsapp` and pass the "
                "token it prints"
            )
        if not isinstance(answer, dict) or "code" in answer:
            raise CheckFailed(f"{method} failed: {describe(r)}")
        return answer


def say(text: str) -> None:
    """One line of the check's report, flushed at once: the person (or a test) acts on it."""
    print(text, flush=True)


def body_of(r: httpx.Response) -> dict[str, Any]:
    """An answer's JSON object, or {} when it is not one."""
    try:
        body = r.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}
