"""Plain types that services hand to façades (no ORM rows leave the storage layer)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner account (integrator or reseller) that owns instances."""

    id: int
    name: str
    created_ms: int
    revoked_ms: int | None
    # The hash of the account Client-Token (Z-API) while one is active.
    client_token_digest: str | None = None


@dataclass(frozen=True, slots=True)
class NewInstance:
    """What createInstance returns: the only time the token is handed out unasked."""

    id_instance: int
    api_token: str
    type_instance: str


@dataclass(frozen=True, slots=True)
class InstanceListing:
    """One instance as a partner's listing shows it."""

    id_instance: int
    name: str
    type_instance: str
    api_token: str
    tariff: str
    created_ms: int
    deleted_ms: int | None
    expires_ms: int | None


@dataclass(frozen=True, slots=True)
class InstanceView:
    """An instance as the instance API sees it after authentication."""

    id_instance: int
    partner_id: int
    type_instance: str
    state: str
    wid: str
    webhook_url: str
    # webhookUrlToken as stored, encrypted (None: no token); services/account.py decrypts it.
    webhook_token_cipher: bytes | None
    delay_send_ms: int
    switches: dict[str, bool]
    name: str = ""
    created_ms: int = 0
    # The subscription: see services/subscriptions.py.
    plan: str = "subscribed"
    expires_ms: int | None = None
    canceled_ms: int | None = None
    with_calls: bool = False
    # Per-event callback URLs ("" = none) and options, by their names in services/config.py.
    callbacks: dict[str, str] = field(default_factory=dict)
    options: dict[str, bool | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StateChange:
    """One entry of an instance's state history."""

    state: str
    wid: str
    at_ms: int
