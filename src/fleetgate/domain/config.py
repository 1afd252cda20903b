"""An instance's own settings: one model behind every façade.

A default webhook URL and token, a send pace, named yes/no switches, per-event callback URLs
and a few options. GREEN-API shows the switches as "yes"/"no" keys and the default URL; Z-API
shows the per-event callback URLs (falling back to the default URL where the matching switch is
on) and the options. Both change the same columns.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from fleetgate.errors import InvalidInput

DELAY_MIN_MS = 500
DELAY_MAX_MS = 600_000
DELAY_DEFAULT_MS = 500
WEBHOOK_URL_MAX = 2048
WEBHOOK_TOKEN_MAX = 1024
NAME_MAX = 255

# Every yes/no switch an instance has; each is a column of the instances table.
SWITCHES: tuple[str, ...] = (
    "mark_incoming_messages_read",
    "mark_incoming_messages_read_on_reply",
    "outgoing_webhook",
    "outgoing_message_webhook",
    "outgoing_api_message_webhook",
    "incoming_webhook",
    "device_webhook",
    "status_instance_webhook",
    "state_webhook",
    "enable_messages_history",
    "keep_online_status",
    "poll_message_webhook",
    "incoming_block_webhook",
    "incoming_call_webhook",
    "edited_message_webhook",
    "deleted_message_webhook",
)

# Per-event callback URLs (column cb_<event>); each gets its event's callbacks.
CALLBACKS: tuple[str, ...] = (
    "received",
    "received_delivery",
    "delivery",
    "message_status",
    "connected",
    "disconnected",
    "presence_chat",
)
# Options: name -> allowed values (a tuple of strings), bool, or the max length of a text.
OPTIONS: dict[str, type[bool] | int | tuple[str, ...]] = {
    "session_name": 100,
    "middleware": ("web", "mobile"),
    "business_device": bool,
    "call_reject_auto": bool,
    "call_reject_message": 1000,
    "auto_read_status": bool,
    "disable_enqueue_when_disconnected": bool,
    "notify_sent_by_me": bool,
}


@dataclass(frozen=True, slots=True)
class ConfigPatch:
    """A partial change of settings; ``None`` / absent keys leave a value as it is."""

    name: str | None = None
    webhook_url: str | None = None
    webhook_url_token: str | None = None
    delay_send_ms: int | None = None
    switches: dict[str, bool] = field(default_factory=dict)
    callbacks: dict[str, str] = field(default_factory=dict)
    options: dict[str, bool | str] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when the patch would change nothing."""
        return (
            self.name is None
            and self.webhook_url is None
            and self.webhook_url_token is None
            and self.delay_send_ms is None
            and not self.switches
            and not self.callbacks
            and not self.options
        )

    def values(self) -> dict[str, object]:
        """The instance columns this patch sets (name and webhookUrlToken excepted: they
        need the instance id, see :func:`name_values` and :func:`secret_values`)."""
        values: dict[str, object] = dict(self.switches)
        if self.webhook_url is not None:
            values["webhook_url"] = self.webhook_url
        if self.delay_send_ms is not None:
            values["delay_send_ms"] = self.delay_send_ms
        values |= {f"cb_{event}": url for event, url in self.callbacks.items()}
        return values | self.options

    def validate(self) -> None:
        """Raise InvalidInput naming the first value fleetgate cannot store."""
        if self.name is not None:
            check_text("name", self.name, NAME_MAX)
        if self.webhook_url is not None:
            check_webhook_url(self.webhook_url)
        if self.webhook_url_token is not None:
            check_text("webhookUrlToken", self.webhook_url_token, WEBHOOK_TOKEN_MAX)
        if self.delay_send_ms is not None and not (
            DELAY_MIN_MS <= self.delay_send_ms <= DELAY_MAX_MS
        ):
            raise InvalidInput(
                f"delaySendMessagesMilliseconds must be from {DELAY_MIN_MS} to {DELAY_MAX_MS}"
            )
        unknown = (
            (set(self.switches) - set(SWITCHES))
            | (set(self.callbacks) - set(CALLBACKS))
            | (set(self.options) - set(OPTIONS))
        )
        if unknown:
            raise InvalidInput(f"unknown setting {sorted(unknown)[0]}")
        for event, url in self.callbacks.items():
            check_webhook_url(url, label=f"{event} callback URL")
        for name, value in self.options.items():
            check_option(name, value)


def check_option(name: str, value: bool | str) -> None:
    """The option's value has its kind: a bool, one of a few words, or a bounded text."""
    kind = OPTIONS[name]
    if kind is bool:
        if not isinstance(value, bool):
            raise InvalidInput(f"{name} must be true or false")
    elif isinstance(kind, tuple):
        if value not in kind:
            raise InvalidInput(f"{name} must be one of {', '.join(kind)}")
    elif isinstance(kind, int) and isinstance(value, str):
        check_text(name, value, kind)
    else:
        raise InvalidInput(f"{name} must be a string")


# C0 and C1 controls and DEL, and the bidirectional embeddings, overrides and isolates: the
# latter make a name read differently from what it holds (a spoofed name in a listing or log).
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def check_text(label: str, value: str, max_len: int) -> None:
    """Bounded length and no control characters (bidirectional overrides among them)."""
    if len(value) > max_len:
        raise InvalidInput(f"{label} must be at most {max_len} characters")
    if _CONTROLS.search(value):
        raise InvalidInput(f"{label} must not contain control characters")


def check_webhook_url(url: str, *, label: str = "webhookUrl") -> None:
    """Empty (no webhook, poll instead) or an absolute http(s) URL with a host and no userinfo."""
    if url == "":
        return
    check_text(label, url, WEBHOOK_URL_MAX)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        raise InvalidInput(f"{label} is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"{label} must be an http:// or https:// URL with a host")
    if port == 0 or " " in url:
        raise InvalidInput(f"{label} is not a valid URL")
    if "@" in parts.netloc:
        # http://trusted.example@evil.example goes to evil.example: refused, as at delivery.
        raise InvalidInput(f"{label} must not contain a user name or password")
