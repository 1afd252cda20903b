"""What a running fleetgate process shares between its HTTP API and background workers."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from fleetgate.crypto import TokenCipher
from fleetgate.engines.base import EngineHost
from fleetgate.engines.registry import EngineRegistry
from fleetgate.runner.runner import Runner, RunnerConfig
from fleetgate.services.instances import Provisioning
from fleetgate.settings import Settings
from fleetgate.storage.db import Database
from fleetgate.storage.signals import Signals, signals_for


@dataclass(slots=True)
class Context:
    """Process-wide objects, built once by the app factory."""

    settings: Settings
    db: Database
    signals: Signals
    cipher: TokenCipher
    engines: EngineRegistry
    registry: CollectorRegistry

    @property
    def provisioning(self) -> Provisioning:
        return Provisioning(
            id_prefix=self.settings.instances.id_prefix, tariff=self.settings.instances.tariff
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        """Open the database and load the server key named by the settings."""
        db = Database(settings.resolved_database_url())
        signals = signals_for(db.url)
        return cls(
            settings=settings,
            db=db,
            signals=signals,
            cipher=TokenCipher(settings.resolved_secret_key()),
            engines=EngineRegistry(EngineHost(db=db, signals=signals)),
            registry=CollectorRegistry(auto_describe=True),
        )

    def new_runner(self) -> Runner:
        """A runner for this process, configured by the settings."""
        cfg = self.settings.runner
        return Runner(
            db=self.db,
            signals=self.signals,
            engines=self.engines,
            config=RunnerConfig(tick_s=cfg.tick_s, lease_ttl_s=cfg.lease_ttl_s),
        )
