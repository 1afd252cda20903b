"""The whatsapp engine's own settings, read from ``FLEETGATE_WHATSAPP__*`` variables.

fleetgate's Settings know nothing of this engine (it is a separate distribution); the engine
reads its section of the environment itself, beside the process-wide settings it is lent
through ``EngineHost`` (the data dir and the database URL, from which ``locations.py`` derives
where device keys live).
"""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The real client: neonize behind the Client interface (client.py). It is imported only by
# worker processes, never by the process that runs the engine.
DEFAULT_CLIENT_FACTORY = "fleetgate_whatsapp.neonize_client:NeonizeFactory"


class WhatsAppSettings(BaseSettings):
    """Worker processes, their restarts and the store; ``FLEETGATE_WHATSAPP__<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="FLEETGATE_WHATSAPP__", extra="ignore")

    sessions_per_worker: int = Field(
        50,
        ge=1,
        description="Sessions one worker process hosts; the next session starts another "
        "worker. A worker's crash takes down only its own sessions (they reopen).",
    )
    max_workers: int = Field(
        64,
        ge=1,
        description="Worker processes at most; once all are full, further sessions go to the "
        "least loaded worker (a warning is logged).",
    )
    restart_backoff_min_s: float = Field(
        1.0,
        gt=0,
        description="Pause before restarting a worker that ended; it doubles with every "
        "further failure in a row (with random jitter, so workers do not restart in step).",
    )
    restart_backoff_max_s: float = Field(
        60.0, gt=0, description="The restart pause never grows beyond this."
    )
    stable_after_s: float = Field(
        60.0,
        gt=0,
        description="A worker that ran this long counts as healthy: its next crash restarts "
        "it after the minimum pause again.",
    )
    start_timeout_s: float = Field(
        30.0,
        gt=0,
        description="A new worker must answer its first ping within this many seconds (it "
        "loads the client library first), or it is killed and restarted.",
    )
    call_timeout_s: float = Field(
        90.0,
        gt=0,
        description="A call to a worker (send, exists, pairing code, ...) fails after this "
        "many seconds; longer than the library's own 75 s network timeout, so its error "
        "comes first.",
    )
    ping_timeout_s: float = Field(
        30.0,
        gt=0,
        description="Every runner pass pings each worker; one that does not answer within "
        "this many seconds is hung: it is killed and restarted.",
    )
    stop_timeout_s: float = Field(
        10.0,
        gt=0,
        description="Closing a session, or ending a worker, waits this long before the "
        "worker is killed.",
    )
    qr_wait_s: float = Field(
        10.0,
        ge=0,
        description="qr and pairing-code requests wait this long for the first QR of a new "
        "login window (the device must reach WhatsApp first).",
    )
    client_factory: str = Field(
        DEFAULT_CLIENT_FACTORY,
        description="MODULE:NAME of the ClientFactory the workers load (a factory object, or "
        "a class or function making one); the tests name a stand-in here.",
    )
    postgres_schema: str = Field(
        "whatsmeow",
        pattern=r"^[a-z_][a-z0-9_]{0,62}$",
        description="On PostgreSQL, the schema of fleetgate's database that holds the device "
        "keys of every instance (created at engine start).",
    )

    store_url: str | None = Field(
        None,
        description="A PostgreSQL URL for the device store instead of fleetgate's own database, "
        "e.g. PgBouncer in front of it: the library holds a connection per session "
        "(docs/whatsapp.md, Store locations). Used on any fleetgate database.",
    )

    @model_validator(mode="after")
    def _backoff_in_order(self) -> WhatsAppSettings:
        if self.restart_backoff_max_s < self.restart_backoff_min_s:
            raise ValueError("restart_backoff_max_s is below restart_backoff_min_s")
        return self
