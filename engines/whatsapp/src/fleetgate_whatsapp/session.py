"""One instance's WhatsApp device, connected through a worker process.

Everything a session reports goes through one task consuming one queue: the worker's events
in the order it sent them, interleaved with the session's own steps at the point where the
worker's reply to them fell (``_control_call``). So an event sent before a reply is always
reported before what follows that reply, and reports never overtake each other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fleetgate.clock import now_ms
from fleetgate.domain.files import StoredFile
from fleetgate.engines.base import (
    ALREADY_AUTHORIZED,
    EngineError,
    OutgoingMessage,
    QrCode,
    SessionEvents,
    SessionSpec,
)
from fleetgate.storage.blobs import BlobMissing
from fleetgate_whatsapp import ipc
from fleetgate_whatsapp.device import Device, Next
from fleetgate_whatsapp.optional import OptionalMethods
from fleetgate_whatsapp.process import Phase, Worker, WorkerLost

if TYPE_CHECKING:
    from fleetgate_whatsapp.engine import WhatsAppEngine

log = logging.getLogger(__name__)

# The texts the sandbox engine gives for the same situations.
STARTING_TEXT = "instance in starting process try later"
NOT_AUTHORIZED_TEXT = "instance account not authorized"
# WhatsApp ids of recent sends by our id, so a send retried after a crash is not sent twice.
_SENT_REMEMBERED = 1000
# Messages the worker uploads a file for (outgoing.MEDIA_KINDS; that module loads protobufs).
_FILE_TYPES = frozenset(
    {"imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage"}
)


@dataclass(slots=True)
class _Incoming:
    epoch: int
    event: ipc.Event


@dataclass(slots=True)
class _Lost:
    reason: str


@dataclass(slots=True)
class _Run:
    """A step of the session's own, run in its place in the queue."""

    work: Callable[[], Awaitable[None]]
    done: asyncio.Future[None]


_Item = _Incoming | _Lost | _Run


class WhatsAppSession(OptionalMethods):
    """Implements the engine Session Protocol over a worker-hosted device connection, and the
    optional methods the library can do (optional.py)."""

    def __init__(self, engine: WhatsAppEngine, spec: SessionSpec, events: SessionEvents) -> None:
        self.engine = engine
        self.events = events
        self._sid = spec.id_instance
        self.device = Device(
            spec.id_instance,
            events,
            spec.auth,
            lambda: self._running,
            ours=lambda remote: self._ours.get(remote, remote),
            blobs=engine.host.blobs,
        )
        self._started = False
        self._running = False
        self._worker: Worker | None = None
        # The worker generation our connection was opened on (None: not open).
        self._opened: int | None = None
        # The generation of the last open sent; when it got no clear answer (a timeout), the
        # worker may hold the connection: it is closed before the next open there.
        self._tried: int | None = None
        self._control = asyncio.Lock()  # one open/close/logout sequence at a time
        self._queue: asyncio.Queue[_Item] = asyncio.Queue()
        self._consumer: asyncio.Task[None] | None = None
        # Bumped when a close is answered: what the closed connection said before is stale.
        self._epoch = 0
        self._changed = asyncio.Event()
        self._tasks: set[asyncio.Task[None]] = set()
        # Our id -> WhatsApp's, of the last sends, and back.
        self._sent: OrderedDict[str, str] = OrderedDict()
        self._ours: dict[str, str] = {}
        self._typing: dict[str, asyncio.Task[None]] = {}

    @property
    def sid(self) -> int:
        return self._sid

    # The supervisor's side (Member).

    def deliver(self, event: ipc.Event) -> None:
        self._queue.put_nowait(_Incoming(self._epoch, event))

    def worker_lost(self, reason: str) -> None:
        self._queue.put_nowait(_Lost(reason))

    async def reopen(self) -> None:
        async with self._control:
            worker = self._worker
            if worker is not None and self._opened != worker.generation:
                await self._open()

    # The runner's side (Session).

    async def start(self) -> None:
        if self._running:
            return
        self._started = self._running = True
        self.engine._attach(self)
        self._consumer = asyncio.get_running_loop().create_task(
            self._consume(), name=f"whatsapp session {self.sid}"
        )
        async with self._control:
            try:
                self._worker = self.engine.supervisor.place(self)
            except EngineError as exc:
                log.error("whatsapp session of instance %s not placed: %s", self.sid, exc)
                await self._in_order(self.device.open_failed)
                return
            await self._open()

    async def stop(self) -> None:
        if not self._running:
            return
        self._running = False
        self.engine._detach(self)
        for task in list(self._tasks):
            task.cancel()
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
        self._drain()
        self._changed.set()
        worker, self._worker = self._worker, None
        if worker is None:
            return
        if self._opened is not None:
            with contextlib.suppress(EngineError):
                await worker.call(
                    self.sid, "close", {}, timeout=self.engine.settings.stop_timeout_s
                )
        await self.engine.supervisor.leave(self, worker)

    async def logout(self) -> None:
        async with self._control:
            if self._running and self.device.jid is not None and self._opened is not None:
                try:
                    await self._control_call("logout", {})
                except EngineError as exc:
                    # Forgotten here all the same: the user asked to unlink, and a device we
                    # no longer use is one the phone can remove from its list.
                    log.warning("logout of whatsapp instance %s failed: %s", self.sid, exc)
            await self._in_order(self.device.forget)
            if self._running:
                await self._new_login()

    async def qr(self) -> QrCode:
        return await self._current_qr()

    async def pairing_code(self, phone: str) -> str:
        await self._current_qr()  # a code can be asked for once the login window is open
        return str(await self._call("pair_phone", {"phone": phone}))

    async def send(self, message: OutgoingMessage) -> str:
        """Send; returns WhatsApp's id of the message (the same id again for a repeat)."""
        if not self._running or self.device.jid is None:
            raise EngineError(NOT_AUTHORIZED_TEXT)
        known = self._sent.get(message.id_message)
        if known is not None:
            return known
        args: dict[str, Any] = {"chat_id": message.chat_id, "message_data": message.message_data}
        if message.file is not None:
            args["file"] = await self._file(message.file)
        elif message.message_data.get("typeMessage") in _FILE_TYPES:
            raise EngineError("a file message needs its file")
        remote = str(await self._call("send", args))
        self._sent[message.id_message] = remote
        self._ours[remote] = message.id_message
        while len(self._sent) > _SENT_REMEMBERED:
            self._ours.pop(self._sent.popitem(last=False)[1], None)
        return remote

    async def _ask(self, op: str, args: dict[str, Any]) -> Any:
        if not self._running or self.device.jid is None:
            raise EngineError(NOT_AUTHORIZED_TEXT)
        return await self._call(op, args)

    def _remote_id(self, id_message: str) -> str:
        # A message sent through this session under our id; any other id (an incoming
        # message's, one typed on the phone) is WhatsApp's already.
        return self._sent.get(id_message, id_message)

    async def _file(self, file: StoredFile) -> dict[str, Any]:
        """A file message's file as the ``send`` call carries it: its bytes, from the media
        store (the worker uploads bytes; it fetches nothing)."""
        limit = self.engine.host.settings.media.max_file_bytes
        if file.size > limit:
            raise EngineError(f"the file is over {limit} bytes")
        try:
            content = await self.engine.host.blobs.read_all(file.key)
        except BlobMissing:
            raise EngineError("the file of this message is no longer kept") from None
        if len(content) != file.size:
            raise EngineError("the file of this message changed in the media store")
        # Tens of megabytes: encoded beside the event loop, not on it.
        text = await asyncio.to_thread(ipc.file_text, content)
        return {"content": text, "mime_type": file.mime_type, "file_name": file.file_name}

    async def read_chat(self, chat_id: str, id_messages: list[str]) -> None:
        if not id_messages or not self._running or self.device.jid is None:
            return
        # In a personal chat the sender is the chat; a group's sender is not known here.
        args = {"chat_id": chat_id, "sender": chat_id, "id_messages": id_messages}
        await self._call("mark_read", args)

    async def exists(self, phone: str) -> bool:
        return bool(await self._call("exists", {"phone": phone}))

    async def poke(self) -> None:
        """Reopen the connection if its last open failed (the worker is up again)."""
        worker = self._worker
        if (
            self._running
            and worker is not None
            and worker.phase is Phase.UP
            and self._opened != worker.generation
            and not self.device.replaced
            and not self._control.locked()
        ):
            self._spawn(self.reopen())

    # Opening and closing the connection (under self._control).

    async def _open(self) -> None:
        worker = self._worker
        if worker is None or not self._running or self.device.replaced:
            return
        opened_on: list[int] = []

        async def opened() -> None:
            self._opened = opened_on[0]
            await self.device.report()

        try:
            if self._opened is None and self._tried == worker.generation:
                with contextlib.suppress(EngineError):
                    await self._control_call("close", {}, bump=True)
            self._tried = worker.generation
            await self.engine.stores.prepare(self.engine.host.db)
            await self.engine.migrate_store(worker)
            args = {"store": self.engine.stores.dsn_for(self.sid), "jid": self.device.jid}
            # What the last connection (or worker) said is history once the new one opens;
            # anything the new one says comes after this step.
            await self._in_order(self.device.opening)
            await self._control_call(
                "open", args, then=opened, on_reply=lambda: opened_on.append(worker.generation)
            )
        except WorkerLost as exc:
            # The supervisor logs the worker's end once; a line per session would bury it.
            log.debug("whatsapp session of instance %s could not open: %s", self.sid, exc)
            await self._in_order(self.device.open_failed)
        except Exception as exc:
            if isinstance(exc, EngineError):
                log.warning("whatsapp session of instance %s could not open: %s", self.sid, exc)
            else:
                log.exception("whatsapp session of instance %s could not open", self.sid)
            await self._in_order(self.device.open_failed)

    async def _new_login(self) -> None:
        """Close the connection and open a new device's, for a new QR or pairing code."""
        await self._close()
        await self._open()

    async def _close(self) -> None:
        if self._opened is None:
            return
        self._opened = self._tried = None
        with contextlib.suppress(EngineError):
            await self._control_call("close", {}, bump=True)

    async def _control_call(
        self,
        op: str,
        args: dict[str, Any],
        *,
        then: Callable[[], Awaitable[None]] | None = None,
        bump: bool = False,
        on_reply: Callable[[], None] | None = None,
    ) -> Any:
        """Call the worker; return once every event it sent before its reply was handled
        (and ``then`` ran, in that place, if the call succeeded)."""
        worker = self._worker
        if worker is None:
            raise EngineError(STARTING_TEXT)
        placed: list[asyncio.Future[None]] = []

        def at_reply(ok: bool) -> None:
            if on_reply is not None:
                on_reply()
            if bump:
                self._epoch += 1
            done = asyncio.get_running_loop().create_future()
            placed.append(done)
            if self._running:
                self._queue.put_nowait(_Run(then if ok and then else _nothing, done))
            else:  # stopped meanwhile: nothing more is reported
                done.set_result(None)

        try:
            return await worker.call(self.sid, op, args, on_reply=at_reply)
        finally:
            if placed:
                await placed[0]

    async def _call(self, op: str, args: dict[str, Any]) -> Any:
        worker = self._worker
        if worker is None or not self._running:
            raise EngineError(STARTING_TEXT)
        return await worker.call(self.sid, op, args)

    # The consumer: everything reported, in order.

    async def _consume(self) -> None:
        while True:
            item = await self._queue.get()
            if isinstance(item, _Run):
                try:
                    await item.work()
                except asyncio.CancelledError:
                    _settle(item.done)
                    raise
                except Exception as exc:
                    if not item.done.done():
                        item.done.set_exception(exc)
                else:
                    _settle(item.done)
            else:
                try:
                    if isinstance(item, _Lost):
                        await self.device.worker_gone()
                    else:
                        await self._on_event(item)
                except Exception:
                    log.exception("whatsapp instance %s: could not handle %s", self.sid, item)
            self._changed.set()

    async def _in_order(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run ``work`` after everything queued so far (directly before start; never after
        stop)."""
        if not self._started:
            await work()
            return
        if not self._running:
            return
        done = asyncio.get_running_loop().create_future()
        self._queue.put_nowait(_Run(work, done))
        await done

    def _drain(self) -> None:
        """After stop: release whoever waits on a step that will never run."""
        while not self._queue.empty():
            item = self._queue.get_nowait()
            if isinstance(item, _Run):
                _settle(item.done)

    async def _on_event(self, item: _Incoming) -> None:
        current = item.epoch == self._epoch
        follow = await self.device.on_event(item.event.kind, item.event.data, current=current)
        if follow is Next.NEW_LOGIN:
            self._spawn(self._locked_new_login())
        elif follow is Next.STEP_ASIDE:
            self._spawn(self._locked_close())
        elif follow is Next.RETRY_AFTER_BAN:
            self._spawn(self._after_ban(self.device.ban_s))

    async def _locked_new_login(self) -> None:
        async with self._control:
            if self._running and self.device.jid is None:
                await self._new_login()

    async def _after_ban(self, expire_s: float) -> None:
        """Connect again once a temporary ban has run out (the library does not)."""
        await asyncio.sleep(expire_s)
        async with self._control:
            if self._running and self.device.banned and self.device.jid is not None:
                await self._in_order(self.device.unbanned)
                await self._close()
                await self._open()

    async def _locked_close(self) -> None:
        async with self._control:
            await self._close()

    # Helpers.

    async def _current_qr(self) -> QrCode:
        """The QR to show now (waiting a little for the first of a login window); a new
        window is asked for when every code of the last one went unscanned."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.engine.settings.qr_wait_s
        while True:
            if self.device.qr_expired and loop.time() < deadline:
                async with self._control:
                    if self.device.qr_expired and self.device.jid is None and self._running:
                        await self._new_login()
            qr = await self._wait_for_qr(deadline)
            if qr is not None:
                return qr

    async def _wait_for_qr(self, deadline: float) -> QrCode | None:
        """The current QR; None if the login window closed meanwhile."""
        loop = asyncio.get_running_loop()
        while True:
            self._changed.clear()
            self._check_running()
            if self.device.jid is not None:
                raise EngineError(ALREADY_AUTHORIZED)
            if self.device.qr_expired and loop.time() < deadline:
                return None
            qr = self.device.qr
            if qr is not None and qr.expires_ms > now_ms():
                return qr
            left = deadline - loop.time()
            if self.device.offline or left <= 0:
                raise EngineError(STARTING_TEXT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), left)

    def _check_running(self) -> None:
        if not self._running:
            raise EngineError(STARTING_TEXT)

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task


async def _nothing() -> None:
    pass


def _settle(done: asyncio.Future[None]) -> None:
    if not done.done():
        done.set_result(None)
