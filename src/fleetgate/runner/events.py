"""What a session reports, made durable: state changes and credentials go to the database."""

from __future__ import annotations

from typing import Any

import orjson

from fleetgate.services import states
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.signals import Signals


class InstanceEvents:
    """SessionEvents for one instance; silent once its session was stopped."""

    def __init__(self, db: Database, signals: Signals, id_instance: int) -> None:
        self.db = db
        self.signals = signals
        self.id_instance = id_instance
        self.active = True

    async def state_changed(self, state: str, *, wid: str) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            await states.record_state(
                session=session,
                signals=self.signals,
                id_instance=self.id_instance,
                state=state,
                wid=wid,
            )

    async def auth_changed(self, auth: dict[str, Any] | None) -> None:
        if not self.active:
            return
        blob = None if auth is None else orjson.dumps(auth).decode()
        async with self.db.transaction() as session:
            await repo.update_values(session, self.id_instance, {"engine_auth": blob})
