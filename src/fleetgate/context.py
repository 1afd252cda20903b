"""What a running fleetgate process shares between its HTTP API and background workers."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry

from fleetgate.clock import DAY_MS
from fleetgate.crypto import TokenCipher
from fleetgate.delivery.http import WebhookClient
from fleetgate.delivery.policy import RetryPolicy
from fleetgate.delivery.worker import DeliveryWorker, WorkerConfig
from fleetgate.engines.base import EngineHost
from fleetgate.engines.registry import EngineRegistry
from fleetgate.keyring import KeySource
from fleetgate.runner.runner import Runner, RunnerConfig
from fleetgate.services.authlimits import AuthLimiter, auth_limiter_for
from fleetgate.services.create_batch import CreateBatcher
from fleetgate.services.instance_cache import InstanceCache
from fleetgate.services.instances import Provisioning
from fleetgate.services.media import Media
from fleetgate.services.notifications import QueuePolicy
from fleetgate.services.send_batch import SendBatcher
from fleetgate.services.subscriptions import SubscriptionPolicy
from fleetgate.settings import Settings
from fleetgate.storage.blobs import BlobStore
from fleetgate.storage.db import Database
from fleetgate.storage.signals import Signals, signals_for
from fleetgate.targets import TargetPolicy


@dataclass(slots=True)
class Context:
    """Process-wide objects, built once by the app factory."""

    settings: Settings
    db: Database
    signals: Signals
    cipher: TokenCipher
    engines: EngineRegistry
    registry: CollectorRegistry
    instance_cache: InstanceCache
    sends: SendBatcher
    creates: CreateBatcher
    media: Media
    auth_limits: AuthLimiter | None = None

    @property
    def provisioning(self) -> Provisioning:
        instances = self.settings.instances
        return Provisioning(
            id_prefix=instances.id_prefix,
            tariff=instances.tariff,
            engine=instances.default_engine,
        )

    @property
    def subscription_policy(self) -> SubscriptionPolicy:
        z = self.settings.zapi
        return SubscriptionPolicy(
            trial_ms=int(z.trial_hours * 3_600_000),
            deletion_rule=z.deletion_rule,
            deletion_grace_ms=int(z.deletion_grace_days * DAY_MS),
        )

    @property
    def queue_policy(self) -> QueuePolicy:
        return QueuePolicy(retention_ms=int(self.settings.delivery.retention_hours * 3_600_000))

    @classmethod
    def from_settings(cls, settings: Settings) -> Context:
        """Open the database and load the server key named by the settings."""
        cipher = TokenCipher.from_source(KeySource.for_settings(settings))
        db = Database(settings.resolved_database_url(), cipher=cipher)
        signals = signals_for(db.url)
        cipher = TokenCipher.from_source(KeySource.for_settings(settings))
        blobs = BlobStore.from_settings(settings.media, settings.data_dir)
        host = EngineHost(db=db, signals=signals, settings=settings, blobs=blobs)
        return cls(
            settings=settings,
            db=db,
            signals=signals,
            cipher=cipher,
            engines=EngineRegistry(host),
            registry=CollectorRegistry(auto_describe=True),
            instance_cache=InstanceCache(
                db,
                signals,
                ttl_s=settings.instances.auth_cache_s,
                max_entries=settings.instances.auth_cache_size,
            ),
            sends=SendBatcher(db, signals),
            creates=CreateBatcher(db, signals, cipher),
            media=Media(db, blobs, cipher, settings),
            auth_limits=auth_limiter_for(settings.authlimits),
        )

    def new_runner(self) -> Runner:
        """A runner for this process, configured by the settings."""
        cfg = self.settings.runner
        return Runner(
            db=self.db,
            signals=self.signals,
            engines=self.engines,
            media=self.media,
            config=RunnerConfig(
                tick_s=cfg.tick_s, lease_ttl_s=cfg.lease_ttl_s, sole=self.db.is_sqlite
            ),
        )

    def new_delivery_worker(self, http: WebhookClient) -> DeliveryWorker:
        """A webhook delivery worker for this process, configured by the settings."""
        cfg = self.settings.delivery
        retry = RetryPolicy(
            timeout_s=cfg.timeout_s,
            pause_s=cfg.pause_s,
            multiplier=cfg.backoff_multiplier,
            max_pause_s=cfg.max_pause_s,
            give_up_after_s=cfg.give_up_after_s,
        )
        return DeliveryWorker(
            db=self.db,
            signals=self.signals,
            http=http,
            cipher=self.cipher,
            config=WorkerConfig(
                retry=retry,
                targets=TargetPolicy(
                    allow_loopback=cfg.allow_loopback, allow_private=cfg.allow_private
                ),
                retention_ms=self.queue_policy.retention_ms,
                dead_retention_ms=int(cfg.dead_retention_days * 86_400_000),
                concurrency=cfg.concurrency,
                poll_s=cfg.poll_s,
                signing_secret=cfg.signing_secret,
                claim_hold_s=cfg.claim_hold_s,
                sole=self.db.is_sqlite,
            ),
        )


def webhook_client(concurrency: int) -> WebhookClient:
    """The outbound HTTP client for webhooks: pooled, never following redirects."""
    return WebhookClient(concurrency)
