"""Partners: the accounts (integrators or resellers) that own instances."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Partner:
    """A partner account (integrator or reseller) that owns instances."""

    id: int
    name: str
    created_ms: int
    revoked_ms: int | None
    # The hash of the account Client-Token (Z-API) while one is active.
    client_token_digest: str | None = None
    # The engine of the partner's new instances; None: the server's default.
    default_engine: str | None = None
