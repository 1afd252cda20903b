"""One worker process slot: a process at a time, restarted when it ends.

A :class:`Worker` starts ``python -m fleetgate_whatsapp.worker`` with one end of a socketpair,
reads its frames (``ipc.py``), matches replies to calls and hands events to the sessions
placed on it. When the process ends (a Go fatal error, SIGKILL, the OOM killer) it fails the
calls in flight, tells its sessions, waits a jittered pause that doubles with every failure
in a row, starts a new process and asks each session to reopen there.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import os
import random
import signal
import socket
import sys
from collections import deque
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Protocol, TypeVar

from fleetgate.engines.base import EngineError
from fleetgate_whatsapp import ipc

log = logging.getLogger(__name__)
# What workers log (their ``log`` events), under the name of the worker's own module.
_worker_log = logging.getLogger("fleetgate_whatsapp.worker")
T = TypeVar("T")

WORKER_COMMAND = (sys.executable, "-m", "fleetgate_whatsapp.worker")
# How much of a worker's output file is searched for why it ended (a Go crash dump lists
# every goroutine: megabytes), and the lines of it that go into the log.
_OUTPUT_SCANNED = 8 * 1024 * 1024
_HEADLINES = (b"fatal error:", b"panic:", b"Traceback")
_OUTPUT_TAIL_LINES = 3
# A worker asks to be replaced with this exit status (the library leaks a store per connect
# attempt): started again at once, not counted as a failure.
EXIT_RECYCLE = 75
# Recent restarts kept for inspection (a crash loop must not grow memory for ever).
_RESTARTS_KEPT = 100


class WorkerLost(EngineError):
    """The worker hosting the session ended (or is restarting) before answering."""


class Member(Protocol):
    """What the supervisor needs of a session it hosts."""

    @property
    def sid(self) -> int:
        """The session id the worker knows it by (the instance id)."""

    def deliver(self, event: ipc.Event) -> None:
        """Take an event of this session, in the order the worker sent it (must not block)."""

    def worker_lost(self, reason: str) -> None:
        """The worker ended; the session's connection is gone until :meth:`reopen`."""

    async def reopen(self) -> None:
        """A (re)started worker hosts the session now: open its connection there. Never
        raises (a failure is the session's to report)."""


@dataclass(frozen=True, slots=True)
class SupervisorConfig:
    client_factory: str
    sessions_per_worker: int = 50
    max_workers: int = 64
    backoff_min_s: float = 1.0
    backoff_max_s: float = 60.0
    stable_after_s: float = 60.0
    start_timeout_s: float = 30.0
    call_timeout_s: float = 90.0
    ping_timeout_s: float = 30.0
    stop_timeout_s: float = 10.0
    command: Sequence[str] = WORKER_COMMAND
    # Where each worker's stdout and stderr go, worker-<n>.out (the Go library writes there,
    # crash dumps included); None: nowhere.
    output_dir: Path | None = None
    # Added to the workers' environment (the tests point the stand-in at its network).
    env: Mapping[str, str] = field(default_factory=dict)
    # Further worker options (the log level).
    worker_args: Sequence[str] = ()
    # The largest file a message carries (fleetgate's media.max_file_bytes): files travel in
    # frames, which are bounded accordingly; a larger received file is not downloaded.
    max_file_bytes: int = 100 * 1024 * 1024

    @property
    def max_frame(self) -> int:
        return ipc.frame_limit(self.max_file_bytes)


class Phase(enum.Enum):
    SPAWNING = "spawning"
    UP = "up"
    DOWN = "down"  # ended, waiting out its pause before the next start
    RETIRED = "retired"


@dataclass(frozen=True, slots=True)
class Restart:
    """One end of a worker and the pause chosen before starting it again."""

    at: float  # loop time of the end
    delay_s: float
    reason: str


class Worker:
    """One worker slot: its sessions stay placed on it while its process comes and goes."""

    def __init__(self, number: int, config: SupervisorConfig) -> None:
        self.number = number
        self.config = config
        self.members: dict[int, Member] = {}
        self.phase = Phase.SPAWNING
        # Bumped at every start: a session knows whether it opened on the current process.
        self.generation = 0
        self.pid: int | None = None
        self.failures = 0
        self.restarts: deque[Restart] = deque(maxlen=_RESTARTS_KEPT)
        self.last_end = ""
        self._process: asyncio.subprocess.Process | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._write_lock = asyncio.Lock()
        self._pending: dict[int, tuple[asyncio.Future[ipc.Reply], str, Callable[[bool], None]]] = {}
        self._ids = itertools.count(1)
        self._settled = asyncio.Event()  # set whenever the phase is not SPAWNING
        self.exit_code: int | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._checking = False
        self._task = asyncio.get_running_loop().create_task(
            self._run(), name=f"whatsapp worker {number}"
        )

    @property
    def retired(self) -> bool:
        return self.phase is Phase.RETIRED

    @property
    def full(self) -> bool:
        return len(self.members) >= self.config.sessions_per_worker

    async def call(
        self,
        sid: int,
        op: str,
        args: dict[str, Any],
        *,
        timeout: float | None = None,
        on_reply: Callable[[bool], None] | None = None,
        starting: bool = False,
    ) -> Any:
        """Ask the worker; its result, or EngineError (the worker's error text, a timeout, or
        the worker's end). ``on_reply(ok)`` runs when the reply is read, before any later
        frame is routed: a session learns where the reply fell among its events.
        ``starting``: the start's own ping, sent before the worker counts as up."""
        if not starting:
            await self._until_up()
        writer = self._writer
        if writer is None:
            raise WorkerLost(f"whatsapp worker {self.number} has no process")
        call_id = next(self._ids)
        future: asyncio.Future[ipc.Reply] = asyncio.get_running_loop().create_future()
        self._pending[call_id] = (future, op, on_reply or _nothing)
        try:
            frame = ipc.encode(
                ipc.Call(id=call_id, op=op, sid=sid, args=args), self.config.max_frame
            )
            async with self._write_lock:
                writer.write(frame)
                await writer.drain()
            limit = self.config.call_timeout_s if timeout is None else timeout
            try:
                reply = await asyncio.wait_for(future, limit)
            except TimeoutError:
                raise EngineError(
                    f"whatsapp worker {self.number} did not answer {op} within {limit:g} s"
                ) from None
        except (ConnectionError, OSError) as exc:
            raise WorkerLost(f"whatsapp worker {self.number} is unreachable: {exc}") from None
        finally:
            self._pending.pop(call_id, None)
        if not reply.ok:
            raise EngineError(reply.error)
        return reply.result

    async def _until_up(self) -> None:
        if self.phase is Phase.SPAWNING:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settled.wait(), self.config.start_timeout_s)
        if self.phase is Phase.UP:
            return
        if self.phase is Phase.RETIRED:
            raise WorkerLost(f"whatsapp worker {self.number} was stopped")
        if self.phase is Phase.SPAWNING:
            raise WorkerLost(
                f"whatsapp worker {self.number} did not start within "
                f"{self.config.start_timeout_s:g} s"
            )
        raise WorkerLost(
            f"whatsapp worker {self.number} is restarting (it ended: {self.last_end}); try later"
        )

    async def _run(self) -> None:
        """Start the process, serve it until it ends, pause, start again: until retired."""
        loop = asyncio.get_running_loop()
        try:
            while not self.retired:
                try:
                    ending = await self._live()
                except Exception as exc:  # a bug of ours must not end the supervision
                    log.exception("whatsapp worker %d: supervision failed", self.number)
                    ending = f"lost to an error of its supervisor: {exc!r}"
                    self._terminate()
                if self.retired:  # ended by retire(), not by a failure
                    return
                self._went_down(ending)
                if self.exit_code == EXIT_RECYCLE:
                    log.warning(
                        "whatsapp worker %d asked to be replaced; starting a new one in %g s "
                        "(%d sessions to reopen)",
                        self.number,
                        self.config.backoff_min_s,
                        len(self.members),
                    )
                    await asyncio.sleep(self.config.backoff_min_s)  # never a tight loop
                    continue
                output = await asyncio.to_thread(self._output_summary)
                self.failures += 1
                delay = self._backoff()
                self.restarts.append(Restart(at=loop.time(), delay_s=delay, reason=ending))
                log.error(
                    "whatsapp worker %d ended (%s); restarting it in %.1f s (failure %d in a row, "
                    "%d sessions to reopen)%s",
                    self.number,
                    ending,
                    delay,
                    self.failures,
                    len(self.members),
                    output,
                )
                await asyncio.sleep(delay)
        finally:
            self._settled.set()
            await self._kill()

    async def _live(self) -> str:
        """One life of the worker's process: start it, serve it; how it ended."""
        loop = asyncio.get_running_loop()
        self.phase = Phase.SPAWNING
        self._settled.clear()
        spawned = loop.time()
        reader = await self._start()
        if isinstance(reader, str):
            return reader
        started = loop.time()
        took = started - spawned
        log.info("whatsapp worker %d started (pid %s) in %.2f s", self.number, self.pid, took)
        self.phase = Phase.UP
        self._settled.set()
        self._spawn(self._reopen_members())
        ending = await reader
        if loop.time() - started >= self.config.stable_after_s:
            self.failures = 0
        return ending

    async def _start(self) -> asyncio.Task[str] | str:
        """A new process answering pings; its frame reader task, or why it failed."""
        self.generation += 1
        self.exit_code = None
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            with child, self._output() as (output, output_args):
                self._process = await asyncio.create_subprocess_exec(
                    *self.config.command,
                    "--fd",
                    str(child.fileno()),
                    "--client",
                    self.config.client_factory,
                    *output_args,
                    "--media-max-bytes",
                    str(self.config.max_file_bytes),
                    *self.config.worker_args,
                    pass_fds=(child.fileno(),),
                    stdin=asyncio.subprocess.DEVNULL,
                    # The socket carries all we say; stdout and stderr are the library's.
                    stdout=output,
                    stderr=output,
                    env={**os.environ, **self.config.env},
                    # Out of the terminal's process group: Ctrl+C stops the engine, which
                    # stops its workers, rather than every worker dying on its own.
                    start_new_session=True,
                )
            reader, self._writer = await asyncio.open_unix_connection(sock=parent)
        except OSError as exc:
            parent.close()
            return f"could not start: {exc}"
        self.pid = self._process.pid
        frames = self._spawn(self._read_frames(reader))
        try:
            await self.call(0, "ping", {}, timeout=self.config.start_timeout_s, starting=True)
        except WorkerLost:
            return f"{await frames}, before its first answer"
        except EngineError:
            self._terminate()
            await frames
            await self._reap()
            return f"did not answer within {self.config.start_timeout_s:g} s of its start"
        return frames

    async def _read_frames(self, reader: asyncio.StreamReader) -> str:
        """Route frames until the worker's end of the socket closes; how the process ended.
        Calls still waiting then fail at once: no answer can come any more."""
        trouble = await self._route_frames(reader)
        exit_status = await self._reap()
        ending = f"{trouble}; {exit_status}" if trouble else exit_status
        self._fail_pending(ending)
        return ending

    async def _route_frames(self, reader: asyncio.StreamReader) -> str:
        try:
            while True:
                header = await reader.readexactly(ipc.HEADER.size)
                body = await reader.readexactly(ipc.body_length(header, self.config.max_frame))
                self._route(ipc.decode(body))
        except asyncio.IncompleteReadError:
            return ""  # the socket closed: the process ended (or is ending)
        except (ConnectionError, OSError) as exc:
            return f"lost its socket ({exc})"
        except ipc.ProtocolError as exc:
            # A worker that garbles its frames cannot be trusted with the sessions.
            self._terminate()
            return f"sent a bad frame ({exc})"

    def _route(self, frame: ipc.Frame) -> None:
        if isinstance(frame, ipc.Reply):
            entry = self._pending.pop(frame.id, None)
            if entry is not None:
                future, _, on_reply = entry
                on_reply(frame.ok)
                if not future.done():
                    future.set_result(frame)
        elif isinstance(frame, ipc.Event) and frame.sid == 0 and frame.kind == "log":
            data = frame.data
            level = data["level"] if isinstance(data["level"], int) else logging.WARNING
            _worker_log.log(
                level,
                "worker %d (pid %s) %s: %s",
                self.number,
                self.pid,
                data["logger"],
                data["message"],
            )
        elif isinstance(frame, ipc.Event):
            member = self.members.get(frame.sid)
            if member is not None:
                member.deliver(frame)
        else:
            raise ipc.ProtocolError("a worker does not send calls")

    @property
    def output_file(self) -> Path | None:
        """Where this worker's stdout and stderr go (emptied at every start)."""
        folder = self.config.output_dir
        return None if folder is None else folder / f"worker-{self.number}.out"

    @contextlib.contextmanager
    def _output(self) -> Iterator[tuple[int | IO[bytes], list[str]]]:
        """The child's stdout/stderr, and the arguments that tell the worker to keep them
        there (it points its fds 1 and 2 at that file itself, once started)."""
        path = self.output_file
        if path is None:
            yield asyncio.subprocess.DEVNULL, []
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as output:
            yield output, ["--stdio-file", str(path)]

    def _output_summary(self) -> str:
        """What the worker's output says of its end: the first line of its last crash
        report (a Go fatal error, a panic, a Python traceback) and its last lines."""
        path = self.output_file
        if path is None:
            return ""
        try:
            with path.open("rb") as output:
                output.seek(max(0, path.stat().st_size - _OUTPUT_SCANNED))
                lines = [line.strip() for line in output.read().splitlines() if line.strip()]
        except OSError:
            return ""
        if not lines:
            return ""
        shown = [line for line in lines if line.startswith(_HEADLINES)][-1:]
        shown += [line for line in lines[-_OUTPUT_TAIL_LINES:] if line not in shown]
        text = " | ".join(line.decode(errors="replace")[:300] for line in shown)
        return f"; its output ({path}) ended with: {text}"

    async def _reap(self) -> str:
        """Wait (bounded) for the process to exit after its socket closed; how it exited."""
        process = self._process
        if process is None:
            return "no process"
        try:
            code = await asyncio.wait_for(process.wait(), self.config.stop_timeout_s)
        except TimeoutError:
            self._terminate()
            self.exit_code = await process.wait()
            return f"killed after not exiting within {self.config.stop_timeout_s:g} s"
        self.exit_code = code
        if code < 0:
            with contextlib.suppress(ValueError):
                return f"killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def _terminate(self) -> None:
        """SIGKILL the process unless it has ended already."""
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()

    async def _kill(self) -> None:
        process = self._process
        if process is not None and process.returncode is None:
            self._terminate()
            await process.wait()
        if self._writer is not None:
            self._writer.close()
        for task in list(self._tasks):
            task.cancel()

    def _went_down(self, ending: str) -> None:
        self.phase = Phase.DOWN
        self.last_end = ending
        self._settled.set()
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._fail_pending(ending)
        for member in list(self.members.values()):
            member.worker_lost(ending)

    def _fail_pending(self, ending: str) -> None:
        pending, self._pending = self._pending, {}
        for future, op, _ in pending.values():
            if not future.done():
                future.set_exception(
                    WorkerLost(
                        f"whatsapp worker {self.number} (pid {self.pid}) ended ({ending}) "
                        f"before answering {op}"
                    )
                )

    def _backoff(self) -> float:
        """The pause before the next start: doubling per failure in a row, up to the maximum,
        drawn from its upper half so that workers failing together spread out."""
        cfg = self.config
        ceiling = min(cfg.backoff_max_s, cfg.backoff_min_s * 2 ** (self.failures - 1))
        return max(cfg.backoff_min_s, random.uniform(ceiling / 2, ceiling))

    async def _reopen_members(self) -> None:
        members = list(self.members.values())
        if not members:
            return
        generation = self.generation
        await asyncio.gather(*(member.reopen() for member in members))
        if self.generation == generation and self.restarts:
            took = asyncio.get_running_loop().time() - self.restarts[-1].at
            log.warning(
                "whatsapp worker %d is back (pid %s): %d sessions reopened %.1f s after it ended",
                self.number,
                self.pid,
                len(members),
                took,
            )

    async def check(self) -> None:
        """Ping the worker; kill it if it does not answer in time (it is hung)."""
        if self.phase is not Phase.UP or self._checking:
            return
        self._checking = True
        try:
            await self.call(0, "ping", {}, timeout=self.config.ping_timeout_s)
        except WorkerLost:
            pass
        except EngineError:
            log.error("whatsapp worker %d (pid %s) is hung; killing it", self.number, self.pid)
            self._terminate()
        finally:
            self._checking = False

    async def retire(self) -> None:
        """End the worker: close its socket (it exits on EOF), kill it if it lingers."""
        self.phase = Phase.RETIRED
        self._settled.set()
        if self._writer is not None:
            self._writer.close()
        process = self._process
        if process is not None and process.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), self.config.stop_timeout_s)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task

    def _spawn(self, work: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


def _nothing(ok: bool) -> None:
    pass
