"""What a running fleetgate process shares between its HTTP API and background workers."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from fleetgate.crypto import TokenCipher
from fleetgate.services.instances import Provisioning
from fleetgate.settings import Settings
from fleetgate.storage.db import Database


@dataclass(slots=True)
class Context:
    """Process-wide objects, built once by the app factory."""

    settings: Settings
    db: Database
    cipher: TokenCipher
    registry: CollectorRegistry

    @property
    def provisioning(self) -> Provisioning:
        return Provisioning(
            id_prefix=self.settings.instances.id_prefix, tariff=self.settings.instances.tariff
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        """Open the database and load the server key named by the settings."""
        return cls(
            settings=settings,
            db=Database(settings.resolved_database_url()),
            cipher=TokenCipher(settings.resolved_secret_key()),
            registry=CollectorRegistry(auto_describe=True),
        )
