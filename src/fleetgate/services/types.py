"""Plain types that services hand to façades (no ORM rows leave the storage layer)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner account (integrator or reseller) that owns instances."""

    id: int
    name: str
    created_ms: int
    revoked_ms: int | None


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
