"""The whatsapp engine: sessions of real WhatsApp devices, hosted by supervised workers.

This process never imports the client library: a :class:`WhatsAppSession` asks a worker
process (``supervisor.py``) to open its device and reports what the worker tells it. See
docs/whatsapp.md for the states an instance shows and why.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from fleetgate.engines.base import EngineHost, SessionEvents, SessionSpec
from fleetgate_whatsapp.locations import StoreLocations
from fleetgate_whatsapp.session import WhatsAppSession
from fleetgate_whatsapp.settings import WhatsAppSettings
from fleetgate_whatsapp.supervisor import Supervisor, SupervisorConfig, Worker

log = logging.getLogger(__name__)

__all__ = ["WhatsAppEngine", "WhatsAppSession"]


class WhatsAppEngine:
    """Builds whatsapp sessions; owns the worker processes that host them."""

    name = "whatsapp"

    def __init__(
        self,
        host: EngineHost,
        settings: WhatsAppSettings | None = None,
        *,
        worker_env: Mapping[str, str] | None = None,
    ) -> None:
        self.host = host
        self.settings = settings or WhatsAppSettings()
        cfg = self.settings
        self.stores = StoreLocations(host.settings, cfg.postgres_schema, cfg.store_url)
        self.supervisor = Supervisor(
            SupervisorConfig(
                client_factory=cfg.client_factory,
                sessions_per_worker=cfg.sessions_per_worker,
                max_workers=cfg.max_workers,
                backoff_min_s=cfg.restart_backoff_min_s,
                backoff_max_s=cfg.restart_backoff_max_s,
                stable_after_s=cfg.stable_after_s,
                start_timeout_s=cfg.start_timeout_s,
                call_timeout_s=cfg.call_timeout_s,
                ping_timeout_s=cfg.ping_timeout_s,
                stop_timeout_s=cfg.stop_timeout_s,
                env=dict(worker_env or {}),
                output_dir=(host.settings.data_dir / "whatsapp" / "workers").resolve(),
                worker_args=["--log-level", host.settings.log_level],
                max_file_bytes=host.settings.media.max_file_bytes,
            )
        )
        # Running sessions by instance id.
        self.sessions: dict[int, WhatsAppSession] = {}
        self._store_migrated = False
        self._migrate_lock = asyncio.Lock()

    def open_session(self, spec: SessionSpec, events: SessionEvents) -> WhatsAppSession:
        return WhatsAppSession(self, spec, events)

    async def sweep(self) -> None:
        """Ping the workers (a hung one is killed and restarted) and reopen any session whose
        last open failed."""
        self.supervisor.check()
        for session in list(self.sessions.values()):
            await session.poke()

    async def aclose(self) -> None:
        """Stop every session and end the workers (sessions stopped by the runner already
        end their workers: a worker without sessions exits)."""
        for session in list(self.sessions.values()):
            await session.stop()
        await self.supervisor.close()

    async def migrate_store(self, worker: Worker) -> None:
        """Migrate the shared PostgreSQL store once, through a worker, before any session
        opens on it: first opens racing on a fresh store fail on schema creation."""
        if self.stores.shared is None or self._store_migrated:
            return
        async with self._migrate_lock:
            if not self._store_migrated:
                await worker.call(0, "migrate", {"store": self.stores.shared})
                self._store_migrated = True

    def _attach(self, session: WhatsAppSession) -> None:
        self.sessions[session.sid] = session

    def _detach(self, session: WhatsAppSession) -> None:
        if self.sessions.get(session.sid) is session:
            del self.sessions[session.sid]
