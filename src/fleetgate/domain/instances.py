"""Instances as the services hand them around: states, plans and plain views of the rows."""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


class State(enum.StrEnum):
    """An instance's connection state (GREEN-API's stateInstance names)."""

    STARTING = "starting"
    NOT_AUTHORIZED = "notAuthorized"
    AUTHORIZED = "authorized"
    BLOCKED = "blocked"
    SLEEP_MODE = "sleepMode"
    YELLOW_CARD = "yellowCard"


class Plan(enum.StrEnum):
    """An instance's subscription: trial -> subscribed -> canceling -> canceled."""

    TRIAL = "trial"
    SUBSCRIBED = "subscribed"
    CANCELING = "canceling"
    CANCELED = "canceled"


class PaymentStatus(enum.StrEnum):
    """How a partner sees the subscription (Z-API paymentStatus): a plan, or a trial that ran
    out (EXPIRED, never stored: it follows from the plan and the expiry time)."""

    TRIAL = "TRIAL"
    SUBSCRIBED = "SUBSCRIBED"
    CANCELING = "CANCELING"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"


@dataclass(frozen=True, slots=True)
class NewInstance:
    """What createInstance returns: the only time the token is handed out unasked."""

    id_instance: int
    api_token: str
    type_instance: str


@dataclass(frozen=True, slots=True)
class InstanceSummary:
    """One instance as an operator looks it up (`fleetgate instance show`): no token."""

    id_instance: int
    partner: str
    name: str
    engine: str
    state: State
    wid: str
    created_ms: int
    deleted_ms: int | None


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
    state: State
    wid: str
    webhook_url: str
    # webhookUrlToken as stored, encrypted (None: no token); services/account.py decrypts it.
    webhook_token_cipher: bytes | None
    delay_send_ms: int
    switches: dict[str, bool]
    name: str = ""
    created_ms: int = 0
    # The subscription: see services/subscriptions.py.
    plan: Plan = Plan.SUBSCRIBED
    expires_ms: int | None = None
    canceled_ms: int | None = None
    with_calls: bool = False
    # Per-event callback URLs ("" = none) and options, by their names in domain/config.py.
    callbacks: dict[str, str] = field(default_factory=dict)
    options: dict[str, bool | str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StateChange:
    """One entry of an instance's state history."""

    state: State
    wid: str
    at_ms: int
