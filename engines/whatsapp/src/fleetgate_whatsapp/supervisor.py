"""Worker processes: started, watched, and restarted when they end.

The client library's Go layer can end its whole process (a fatal error, a panic on a stale
device), so sessions run in worker processes (``python -m fleetgate_whatsapp.worker``), at
most ``sessions_per_worker`` each. The supervisor places sessions on workers, carries their
calls and events (``ipc.py`` frames over a socketpair the worker inherits), and when a worker
ends it fails that worker's calls in flight, tells its sessions, and starts it again after a
jittered pause that doubles with every failure in a row, then asks each session to reopen
from its saved credentials. Other workers never notice.
"""

from __future__ import annotations

import asyncio
import itertools
import logging

from fleetgate.engines.base import EngineError
from fleetgate_whatsapp.process import Member, Phase, Restart, SupervisorConfig, Worker, WorkerLost

log = logging.getLogger(__name__)

__all__ = ["Member", "Phase", "Restart", "Supervisor", "SupervisorConfig", "Worker", "WorkerLost"]


class Supervisor:
    """Places sessions on workers and keeps the workers running."""

    def __init__(self, config: SupervisorConfig) -> None:
        self.config = config
        self.workers: list[Worker] = []
        self._overfull_warned = False
        self._tasks: set[asyncio.Task[None]] = set()

    def place(self, member: Member) -> Worker:
        """The worker ``member`` runs on: the first with room, else a new one (the least
        loaded once ``max_workers`` run). Its process may still be starting."""
        for worker in self.workers:
            if member.sid in worker.members:
                raise EngineError(f"instance {member.sid} already has a running session")
        chosen = next((w for w in self.workers if not w.full), None)
        if chosen is None and len(self.workers) < self.config.max_workers:
            taken = {w.number for w in self.workers}
            number = next(n for n in itertools.count(1) if n not in taken)
            chosen = Worker(number, self.config)
            self.workers.append(chosen)
            self.workers.sort(key=lambda w: w.number)
        elif chosen is None:
            chosen = min(self.workers, key=lambda w: len(w.members))
            if not self._overfull_warned:
                log.warning(
                    "all %d whatsapp workers host %d sessions; placing more on the least "
                    "loaded (raise FLEETGATE_WHATSAPP__MAX_WORKERS)",
                    len(self.workers),
                    self.config.sessions_per_worker,
                )
                self._overfull_warned = True
        chosen.members[member.sid] = member
        return chosen

    async def leave(self, member: Member, worker: Worker) -> None:
        """Take ``member`` off its worker; a worker left without sessions ends."""
        if worker.members.get(member.sid) is member:
            del worker.members[member.sid]
        if not worker.members and worker in self.workers:
            self.workers.remove(worker)
            await worker.retire()

    def check(self) -> None:
        """Ping every worker in the background; hung ones are killed (and so restarted)."""
        for worker in self.workers:
            task = asyncio.get_running_loop().create_task(worker.check())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        """End every worker (their sessions should have been stopped first)."""
        workers, self.workers = self.workers, []
        await asyncio.gather(*(worker.retire() for worker in workers))
