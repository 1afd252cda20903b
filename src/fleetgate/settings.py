"""One nested Settings object for the whole process, read from ``FLEETGATE_*`` variables."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The key file in data_dir when FLEETGATE_SECRET_KEY is not set (keyring.py owns it).
SECRET_KEY_FILE = "secret.key"


class HttpSettings(BaseModel):
    """Where and how the HTTP API listens."""

    host: str = Field("127.0.0.1", description="Address the HTTP server binds to.")
    port: int = Field(8000, ge=0, le=65535, description="TCP port of the HTTP server (0 = any).")
    max_body_bytes: int = Field(
        1_048_576, ge=1024, description="Largest request body accepted, in bytes."
    )
    grace_s: int = Field(
        10,
        ge=0,
        description="On SIGTERM, requests in flight get this many seconds to finish (new "
        "connections are refused at once); then they are cut off and the workers stop.",
    )
    max_head_bytes: int = Field(
        65_536,
        ge=1024,
        le=1_048_576,
        description="Largest request head (request line and headers), in bytes; a longer one "
        "is answered 431 and the connection closed before more of it is read.",
    )
    head_timeout_s: float = Field(
        10.0,
        gt=0,
        description="A connection must send a complete request head within this many seconds "
        "of opening (or of its request's first byte, on a kept-alive connection); else it is "
        "answered 408 and closed.",
    )
    max_connections: int = Field(
        1000,
        ge=1,
        description="Open HTTP connections one process keeps at most; one more is answered 503 "
        "and closed at once.",
    )
    keep_alive_s: int = Field(
        30,
        ge=1,
        description="An idle kept-alive connection is closed after this many seconds. Longer "
        "than common clients keep theirs (httpx: 5 s), so a client never reuses a connection "
        "the server is closing at that very moment.",
    )


class MetricsSettings(BaseModel):
    """The Prometheus endpoint, GET /metrics."""

    enabled: bool = Field(True, description="Serve /metrics (off: it answers 404).")
    token: SecretStr | None = Field(
        None,
        description="If set, /metrics answers only requests with `Authorization: Bearer "
        "<token>` (else 401); unset, anyone who reaches the port may read it.",
    )


class InstanceSettings(BaseModel):
    """Defaults and limits for new instances."""

    id_prefix: int = Field(
        1101,
        ge=1000,
        le=9999,
        description="4-digit shard prefix of every new idInstance (the first 4 of its 10 digits).",
    )
    tariff: str = Field("PARTNER", description="Tariff code shown by getInstances.")
    default_engine: str = Field(
        "sandbox",
        min_length=1,
        max_length=32,
        description="Engine of new instances of a partner that names none (`fleetgate partner "
        "create --engine`): sandbox, or whatsapp when fleetgate-whatsapp is installed.",
    )
    auth_cache_s: float = Field(
        5.0,
        ge=0,
        description="Seconds an authenticated instance is served from memory at most (every "
        "change to it drops it at once; 0 = read the database on every request).",
    )
    auth_cache_size: int = Field(
        100_000, ge=1, description="Most instances kept in the authentication cache."
    )


class RunnerSettings(BaseModel):
    """The runner that owns engine sessions (see docs/runner.md)."""

    enabled: bool = Field(True, description="Run engine sessions in this process.")
    tick_s: float = Field(
        2.0, gt=0, description="Seconds between full passes (signals wake it sooner)."
    )
    lease_ttl_s: float = Field(
        15.0,
        gt=0,
        description="A runner silent this long is dead; its instances are taken over.",
    )


class DeliverySettings(BaseModel):
    """Notification queues and the webhook delivery worker (see docs/notifications.md)."""

    enabled: bool = Field(True, description="Run the webhook delivery worker in this process.")
    retention_hours: float = Field(
        24.0, gt=0, description="Undelivered notifications older than this become dead letters."
    )
    dead_retention_days: float = Field(
        7.0, gt=0, description="Dead letters older than this are deleted."
    )
    timeout_s: float = Field(180.0, gt=0, description="How long to wait for a webhook answer.")
    pause_s: float = Field(60.0, ge=0, description="Pause before retrying a failed delivery.")
    backoff_multiplier: float = Field(
        1.0, ge=1.0, description="Each further failure multiplies the pause by this."
    )
    max_pause_s: float = Field(3600.0, ge=0, description="The pause never grows beyond this.")
    give_up_after_s: float = Field(
        86_400.0, gt=0, description="Stop retrying (dead letter) this long after creation."
    )
    concurrency: int = Field(256, ge=1, description="Deliveries in flight at once (per worker).")
    allow_loopback: bool = Field(
        False,
        description="Allow webhook targets on loopback (127.0.0.0/8, ::1); for local "
        "development only (`make run` turns it on).",
    )
    allow_private: bool = Field(
        False, description="Allow webhook targets in private, link-local or reserved networks."
    )
    signing_secret: str | None = Field(
        None,
        description="If set, every webhook carries X-Fleetgate-Signature (HMAC-SHA256).",
    )
    poll_s: float = Field(
        1.0, gt=0, description="Seconds between queue scans when no wake-up arrives."
    )
    claim_hold_s: float = Field(
        30.0,
        gt=0,
        description="A delivery claim lasts this long, renewed while sending; a killed "
        "worker's notifications are sent again after it.",
    )
    stop_grace_s: float = Field(
        10.0,
        ge=0,
        description="On shutdown, deliveries in flight get this many seconds to finish; the "
        "rest are cancelled and sent again once their claims run out.",
    )


class RateLimitSettings(BaseModel):
    """Per-instance, per-method rate limits of the instance API (see docs/rate-limits.md)."""

    enabled: bool = Field(
        True, description="Answer 429 Too Many Requests when an instance exceeds a method's rate."
    )
    overrides: dict[str, Annotated[float, Field(ge=0, allow_inf_nan=False)]] = Field(
        default_factory=dict,
        description="Requests per second by method name (any case), replacing the built-in "
        'rate, e.g. {"sendMessage": 20}; taken as given (not scaled); 0 = unlimited.',
    )
    scale: float = Field(
        1.0,
        gt=0,
        allow_inf_nan=False,
        description="Multiplies every built-in rate (2 = twice as many requests).",
    )


class ZapiSettings(BaseModel):
    """The Z-API façade's subscription program (see docs/z-api.md)."""

    trial_hours: float = Field(
        48.0, ge=0, description="How long a Z-API instance created on demand works unsubscribed."
    )
    deletion_rule: Literal["strict", "disconnected"] = Field(
        "strict",
        description="strict: an instance may be deleted when it is disconnected, canceled or "
        "expired, and the grace period has passed; disconnected: whenever it is disconnected.",
    )
    deletion_grace_days: float = Field(
        40.0, ge=0, description="Days after a cancellation takes effect before deletion is allowed."
    )


class AuthLimitSettings(BaseModel):
    """Brute-force resistance of token checks (see docs/security.md)."""

    enabled: bool = Field(
        True, description="Refuse (429) clients and instances after too many failed token checks."
    )
    client_failures: int = Field(
        20, ge=1, description="Failed token checks one client address may make per window."
    )
    target_failures: int = Field(
        50,
        ge=0,
        description="Failed token checks on one instance (from any address) per window; past "
        "it only clients that authenticated on it recently keep access (0 = no per-instance "
        "limit).",
    )
    known_client_hours: float = Field(
        24.0,
        ge=0,
        description="A client (address, IPv6 /64) that authenticated on an instance within "
        "this many hours keeps access while the instance is locked (0 = nobody does).",
    )
    max_known_clients: int = Field(
        100_000,
        ge=100,
        description="Most (instance, client) pairs remembered for that; the least recently "
        "successful are forgotten first.",
    )
    window_s: float = Field(
        300.0, gt=0, description="Seconds in which a full failure count drains away."
    )
    max_tracked: int = Field(
        50_000, ge=100, description="Most clients, and most instances, whose failures are kept."
    )
    trusted_proxies: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Reverse proxies (addresses or CIDR networks) whose X-Forwarded-For names "
        "the client; without one, the peer address is the client.",
    )


class MediaSettings(BaseModel):
    """Files and media: where their bytes are kept, how large they may be, how long they live."""

    backend: Literal["local", "s3"] = Field(
        "local",
        description="local: files under data_dir/media (one machine); s3: an S3-compatible "
        "object store, for API processes on several machines.",
    )
    s3_bucket: str = Field("", description="The bucket (backend s3).")
    s3_endpoint: str = Field(
        "",
        description="The store's URL, e.g. http://127.0.0.1:9000 for a local S3-compatible "
        "server; empty: Amazon S3 itself.",
    )
    s3_region: str = Field("us-east-1", description="The bucket's region.")
    s3_access_key_id: str = Field("", description="Access key id (empty: from the environment).")
    s3_secret_access_key: SecretStr = Field(SecretStr(""), description="Secret access key.")
    s3_allow_http: bool = Field(
        False, description="Allow an http:// endpoint (a store on the same host or network)."
    )
    max_file_bytes: int = Field(
        100 * 1024 * 1024,
        ge=1,
        description="Largest file accepted, uploaded or fetched by URL, in bytes; a larger "
        "upload is answered 413.",
    )
    link_ttl_s: int = Field(
        86_400,
        ge=60,
        description="A download URL fleetgate gives out works this many seconds.",
    )
    retention_days: float = Field(
        14, gt=0, description="Stored files are deleted this many days after they arrived."
    )
    sweep_interval_s: float = Field(
        3600,
        gt=0,
        description="How often a runner deletes expired files, and stored objects a crash "
        "left without a file row (those once they are a day old).",
    )
    fetch_timeout_s: float = Field(
        120,
        gt=0,
        description="sendFileByUrl: the whole download of a file from its URL must end "
        "within this many seconds.",
    )
    public_url: str = Field(
        "",
        description="The address clients reach this server at, e.g. https://wa.example.com: "
        "download URLs start with it. Empty: http://<http.host>:<http.port> (127.0.0.1 when "
        "the server listens on every address). Set it in production.",
    )


class Settings(BaseSettings):
    """fleetgate configuration; every field can be set as ``FLEETGATE_<NAME>``.

    Nested fields use a double underscore: ``FLEETGATE_HTTP__PORT=9000``.
    """

    model_config = SettingsConfigDict(
        env_prefix="FLEETGATE_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Field(
        Path("./fleetgate-data"),
        description="Folder for the SQLite database and the generated secret key.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy async URL, e.g. postgresql+asyncpg://user@host/db. "
            "Default: a SQLite file fleetgate.db in data_dir."
        ),
    )
    secret_key: str | None = Field(
        None,
        description=(
            "Server key (hex, at least 32 bytes) that encrypts instance tokens at rest. "
            "Default: generated once into data_dir/secret.key. Keep it outside the database."
        ),
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = Field(
        "INFO",
        description="The least severe log level written, by fleetgate's and uvicorn's loggers "
        "(applied when a server process starts).",
    )
    log_format: Literal["text", "json"] = Field(
        "text",
        description="text: one readable line per record; json: one JSON object per line "
        "(time, level, logger, message, and the traceback as exc when there is one).",
    )
    http: HttpSettings = Field(default_factory=HttpSettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    instances: InstanceSettings = Field(default_factory=InstanceSettings)
    runner: RunnerSettings = Field(default_factory=RunnerSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
    ratelimits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    zapi: ZapiSettings = Field(default_factory=ZapiSettings)
    authlimits: AuthLimitSettings = Field(default_factory=AuthLimitSettings)
    media: MediaSettings = Field(default_factory=MediaSettings)

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_any_case(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def resolved_database_url(self) -> str:
        """The database URL in effect (the SQLite default lives in data_dir)."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'fleetgate.db').resolve()}"

    def public_url(self) -> str:
        """Where clients reach this server (no trailing slash): see MediaSettings.public_url."""
        if self.media.public_url:
            return self.media.public_url.rstrip("/")
        host = self.http.host
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        elif ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.http.port}"
