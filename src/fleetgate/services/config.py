"""An instance's own settings: one model behind every façade.

A default webhook URL and token, a send pace, and named yes/no switches. GREEN-API shows the
switches as "yes"/"no" keys; other façades map their own names onto the same switches.
"""

from __future__ import annotations

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


@dataclass(frozen=True, slots=True)
class ConfigPatch:
    """A partial change of settings; ``None`` / absent keys leave a value as it is."""

    name: str | None = None
    webhook_url: str | None = None
    webhook_url_token: str | None = None
    delay_send_ms: int | None = None
    switches: dict[str, bool] = field(default_factory=dict)

    def is_empty(self) -> bool:
        """True when the patch would change nothing."""
        return (
            self.name is None
            and self.webhook_url is None
            and self.webhook_url_token is None
            and self.delay_send_ms is None
            and not self.switches
        )

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
        unknown = set(self.switches) - set(SWITCHES)
        if unknown:
            raise InvalidInput(f"unknown setting {sorted(unknown)[0]}")


def check_text(label: str, value: str, max_len: int) -> None:
    """Bounded length and no control characters."""
    if len(value) > max_len:
        raise InvalidInput(f"{label} must be at most {max_len} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise InvalidInput(f"{label} must not contain control characters")


def check_webhook_url(url: str) -> None:
    """Empty (no webhook, poll instead) or an absolute http(s) URL with a host."""
    if url == "":
        return
    check_text("webhookUrl", url, WEBHOOK_URL_MAX)
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a malformed port
    except ValueError:
        raise InvalidInput("webhookUrl is not a valid URL") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("webhookUrl must be an http:// or https:// URL with a host")
    if port == 0 or " " in url:
        raise InvalidInput("webhookUrl is not a valid URL")
