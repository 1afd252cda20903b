"""The real ClientFactory and Client, over neonize: the only module that imports the library.

Only worker processes import it (its Go layer can end the process it runs in). What this
module does about the library (facts from the research note on neonize 0.5.2):

- **Import side effects** are undone: ``logging.basicConfig`` on the root logger (its handler
  and level are put back as they were) and the ``sys.path[0]`` entry of its generated protobuf
  modules (moved to the end, so ``waE2E`` and friends still import but shadow nothing).
- **Go's log level** is the level of the ``neonize.utils.log`` logger when a connect starts;
  it follows the worker's level. Go's records arrive as ``whatsmeow.*`` loggers.
- **Every library call goes through the gate** (``gate.py``): a connect's start-up holds it
  exclusively until the library first calls back for that session, a stop holds it
  exclusively, every other call takes a reader's lease. Nothing else may call into Go: the
  library's own ``weakref`` finalizer (a ``Stop`` on garbage collection) is detached, and the
  JID of ``connected`` comes from the device record the library hands over at the start of its
  event loop (``client.me``), never from ``get_me`` (which aborts the process on a stopped
  session).
- **QR codes**: the terminal printer is replaced by a callback; the login window's outcome
  ("success", "timeout", ...) is observed by replacing the client's login-status callback
  (it only printed a pointer). After a "timeout" the library's connect never returns: the
  worker leaves that thread behind (sessions.py).
- **Each connect is a new library client** with a uuid of its own (the key of the Go maps), so
  a connect left hanging never shares a key with the next one.
- **Migration without connecting**: Go ``GetAllDevices`` runs the store's upgrade; its
  ``"error: ..."`` answer is reported as is (neonize's own wrapper turns it into a ValueError).
- **Media** to send comes as bytes with the call (fleetgate stored the file first) and is
  uploaded here; the message is built here from the upload's answer, so no library helper
  ever sees a URL or a path. Video and audio go without duration and thumbnail: the library
  needs ffmpeg for those, which the worker does not require. Received media is downloaded
  here, in the message's callback (so messages stay in order), unless it is announced larger
  than ``media_max_bytes``; a download that fails leaves the message without its file, with
  one log line.
- **Groups, revokes and edits**: a group change WhatsApp refuses raises a library error whose
  text says why; ``groups.refusal`` turns the known ones into the answer (the sandbox's words)
  and leaves any other an error. Revokes and edits are built from the protobuf classes
  (``edits.py``): the library's own builder for a revoke asks ``get_me`` (see above).
  Reactions and pins are built the same way (``pointers.py``), the account told from the
  others by the JID it linked with.
- **Poll votes** are decrypted by the library (``decrypt_poll_vote``: the poll's secret is in
  the store) and counted against the polls this client sent or received, kept in memory.
"""

from __future__ import annotations

import contextlib
import ctypes
import dataclasses
import importlib
import logging
import shutil
import sys
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from fleetgate_whatsapp import edits, groups, proto, translate
from fleetgate_whatsapp import store as stores
from fleetgate_whatsapp.client import (
    ClientError,
    ClientEvents,
    FactoryOptions,
    FileToSend,
    Received,
    Store,
)
from fleetgate_whatsapp.gate import Hold, LibraryGate

log = logging.getLogger(__name__)
T = TypeVar("T")

# whatsmeow gives the first code of a login window 60 s, each later one 20 s.
_FIRST_QR_S = 60
_NEXT_QR_S = 20
_PAIR_SUCCESS = 2  # PairStatus.Status
# Polls whose votes a connection tallies (the most recent ones).
_POLLS_KEPT = 1000


_MODULES = (
    "client",
    "events",
    "exc",
    "_binder",
    "utils.enum",
    "utils.jid",
    "utils.log",
)


def _import_library() -> dict[str, Any]:
    """Import neonize's modules, then undo what the import does to the process (see the
    module docstring)."""
    root = logging.getLogger()
    handlers, level, path = list(root.handlers), root.level, list(sys.path)
    try:
        return {name: importlib.import_module(f"neonize.{name}") for name in _MODULES}
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
        added = [entry for entry in sys.path if entry not in path]
        sys.path[:] = [entry for entry in sys.path if entry not in added] + added


_lib = _import_library()
_client, _ev, _exc, _binder = _lib["client"], _lib["events"], _lib["exc"], _lib["_binder"]
_enum, _jid, _golog = _lib["utils.enum"], _lib["utils.jid"], _lib["utils.log"]


def device_jid_text(jid: Any) -> str:
    """A JID proto as whatsmeow writes it (the text of the store's ``jid`` column)."""
    text: str = _jid.Jid2String(jid)
    return text


def device_jid(text: str) -> Any:
    """The JID proto of ``user[.agent][:device]@server`` (every field set: Go reads them all)."""
    user, _, server = text.partition("@")
    user, _, device = user.partition(":")
    user, _, agent = user.partition(".")
    if not user or not server or not (device or "0").isdigit() or not (agent or "0").isdigit():
        raise ClientError(f"{text!r} is not a device JID")
    jid = _jid.build_jid(user, server)
    jid.Device = int(device or 0)
    jid.RawAgent = int(agent or 0)
    return jid


class NeonizeFactory:
    """Makes neonize clients; one per worker process (it owns the process's gate)."""

    def __init__(self, options: FactoryOptions | None = None) -> None:
        self.options = options or FactoryOptions()
        self.gate = LibraryGate()
        logging.getLogger("neonize.utils.log").setLevel(self.options.log_level)
        if shutil.which("ffmpeg") is None:
            log.info("ffmpeg is not installed: video and audio are sent without duration")
        # The library warns about ffmpeg at every connect; once (above) is enough.
        logging.getLogger("neonize.utils.ffmpeg").setLevel(logging.ERROR)
        self._log_callback = _binder.func_callback_bytes2(_golog.log_whatsmeow)
        self._uuids = iter(range(1, sys.maxsize))
        self._uuid_lock = threading.Lock()

    def migrate(self, store: Store) -> None:
        dsn = stores.library_dsn(store.dsn)
        if stores.is_postgres(dsn):
            stores.ensure_schema(dsn)
        else:
            Path(dsn).parent.mkdir(parents=True, exist_ok=True)
        answer = _binder.gocode.GetAllDevices(dsn.encode(), self._log_callback)
        text = answer.decode(errors="replace") if answer else ""
        if text.startswith("error"):
            raise ClientError(f"store: {text.removeprefix('error:').strip()}")

    def has_device(self, store: Store, jid: str) -> bool:
        return stores.has_device(stores.library_dsn(store.dsn), jid)

    def client(self, store: Store, jid: str | None, events: ClientEvents) -> NeonizeClient:
        return NeonizeClient(self, stores.library_dsn(store.dsn), jid, events)

    def next_uuid(self) -> str:
        with self._uuid_lock:
            return f"fleetgate-{next(self._uuids)}"


class NeonizeClient:
    """One device connection (see client.Client); a new library client per connect."""

    def __init__(
        self, factory: NeonizeFactory, dsn: str, jid: str | None, events: ClientEvents
    ) -> None:
        if jid is not None:
            device_jid(jid)  # a JID the library cannot take is refused at open
        self._factory = factory
        self._gate = factory.gate
        self._dsn = dsn
        self._jid = jid
        self._events = events
        self._lock = threading.Lock()
        self._lib: Any = None  # the library client of the running connect
        self._running = False  # its start-up is over and it was not stopped
        self._stopped = False
        self._startup: Hold | None = None
        self._login_hold: Hold | None = None
        self._failure: str | None = None
        self._qr_count = 0
        # Polls sent or received since the worker started, by WhatsApp's id, with their tally
        # so far: a vote names its poll only by id, and GREEN-API shows the whole tally.
        self._polls: OrderedDict[str, translate.Poll] = OrderedDict()

    def connect(self) -> None:
        with self._lock:
            if self._stopped:
                return
            lib = self._new_library_client()
            self._lib, self._failure, self._qr_count = lib, None, 0
        hold = self._gate.startup()
        with self._lock:
            if self._stopped:
                hold.release()
                return
            self._startup = hold
        try:
            lib.connect()
        except _exc.NeonizeError as exc:
            raise ClientError(str(exc) or type(exc).__name__) from None
        finally:
            self._end_startup()
            # Whatever ended it, the library keeps the client in its maps (and, when its event
            # loop failed, whatsmeow may still be connected): stop it before any retry.
            self._stop_library(lib)
        if self._failure is not None:
            raise ClientError(self._failure)

    def stop(self) -> None:
        with self._lock:
            self._stopped = True
            lib = self._lib
        if lib is not None:
            self._stop_library(lib)

    def logout(self) -> None:
        self._call(lambda lib: lib.logout())

    def pair_phone(self, phone: str) -> str:
        digits = "".join(c for c in phone if c.isdigit())
        code: str = self._call(lambda lib: lib.PairPhone(digits, True))
        return code

    def send(
        self, chat_id: str, message_data: dict[str, Any], file: FileToSend | None = None
    ) -> str:
        if not self._running:
            raise ClientError("not connected")  # before uploading any file for nothing
        try:
            outgoing = translate.outgoing(message_data, chat_id=chat_id, me=self._me_chat())
            to = translate.jid_of(chat_id)
        except ValueError as exc:
            raise ClientError(str(exc)) from None
        if outgoing.media is None:
            message = outgoing.message
        elif file is None:
            raise ClientError("a file message needs its file")
        else:
            message = self._media(outgoing.media, file)
        response = self._call(lambda lib: lib.send_message(to, message))
        if message_data.get("typeMessage") == "pollMessage":
            self._keep_poll(str(response.ID), translate.poll_of(message_data))
        return str(response.ID)

    def mark_read(self, chat_id: str, sender: str, id_messages: list[str]) -> None:
        chat, author = translate.jid_of(chat_id), translate.jid_of(sender)
        read = _enum.ReceiptType.READ
        self._call(lambda lib: lib.mark_read(*id_messages, chat=chat, sender=author, receipt=read))

    def exists(self, phone: str) -> bool:
        number = "+" + "".join(c for c in phone if c.isdigit())
        answers = self._call(lambda lib: lib.is_on_whatsapp(number))
        return any(bool(answer.IsIn) for answer in answers)

    # -- groups (a refusal of WhatsApp's is an answer: groups.refusal) --------------------

    def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        members = [_jid_of(p) for p in participants]
        info = self._call(lambda lib: lib.create_group(name, members))
        chat_id = translate.chat_id_of(info.JID)
        return {"chatId": chat_id, "groupInviteLink": self._invite_link(info.JID)}

    def group_data(self, group_id: str) -> dict[str, Any] | None:
        jid = _jid_of(group_id)
        reason, info = self._refused(lambda lib: lib.get_group_info(jid))
        if reason == groups.NO_GROUP:
            return None
        if reason:
            # WhatsApp shows a group to its members only (a 403 answers anyone else).
            raise ClientError(groups.NOT_MEMBER)
        admin = groups.is_admin(info, self._me_chat())
        return groups.group_data(info, invite_link=self._invite_link(jid) if admin else "")

    def _invite_link(self, jid: Any) -> str:
        """The group's invite link; "" (logged) when WhatsApp will not give it: the group
        exists all the same, and its link is not worth failing the answer for."""
        try:
            link: str = self._call(lambda lib: lib.get_group_invite_link(jid))
        except ClientError as exc:
            if groups.refusal(str(exc)) is None:
                raise
            log.warning("no invite link for group %s: %s", jid.User, exc)
            return ""
        return groups.invite_link(link)

    def rename_group(self, group_id: str, name: str) -> str:
        jid = _jid_of(group_id)
        return self._refused(lambda lib: lib.set_group_name(jid, name))[0]

    def group_participant(self, group_id: str, participant: str, action: str) -> str:
        jid, person = _jid_of(group_id), _jid_of(participant)
        change = getattr(_enum.ParticipantChange, action.upper())
        reason, answer = self._refused(
            lambda lib: lib.update_group_participants(jid, [person], change)
        )
        if reason:
            return reason
        # One member asked about, one answered (with an error code of its own when refused).
        return next((groups.participant_refusal(p, action) for p in answer or ()), "")

    def leave_group(self, group_id: str) -> str:
        jid = _jid_of(group_id)
        return self._refused(lambda lib: lib.leave_group(jid))[0]

    def group_picture(self, group_id: str, picture: FileToSend) -> str:
        jid = _jid_of(group_id)
        return self._refused(lambda lib: lib.set_group_photo(jid, picture.content))[0]

    def group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        jid = _jid_of(group_id)
        if members_edit is not None:
            reason = self._refused(lambda lib: lib.set_group_locked(jid, not members_edit))[0]
            if reason:
                return reason
        if members_send is not None:
            return self._refused(lambda lib: lib.set_group_announce(jid, not members_send))[0]
        return ""

    def describe_group(self, group_id: str, description: str) -> str:
        jid = _jid_of(group_id)
        # No previous or new topic id: the library looks the current one up and makes one.
        return self._refused(lambda lib: lib.set_group_topic(jid, "", "", description))[0]

    def reset_invite(self, group_id: str) -> dict[str, str]:
        jid = _jid_of(group_id)
        reason, link = self._refused(lambda lib: lib.get_group_invite_link(jid, revoke=True))
        return {"link": groups.invite_link(link or ""), "reason": reason}

    def join_group(self, link: str) -> dict[str, str]:
        code = groups.invite_code(link)
        if not code:
            return {"groupId": "", "state": "", "reason": groups.NO_INVITE}
        reason, jid = self._refused(lambda lib: lib.join_group_with_link(code))
        if reason or jid is None:
            return {"groupId": "", "state": "", "reason": reason}
        # The library answers the group's JID whether the account joined or asked an admin to
        # let it in; only a member is shown the group.
        member = not self._refused(lambda lib: lib.get_group_info(jid))[0]
        state = groups.JOINED if member else groups.PENDING
        return {"groupId": translate.chat_id_of(jid), "state": state, "reason": ""}

    # -- chats and the account's own messages --------------------------------------------

    def revoke(self, chat_id: str, id_message: str) -> None:
        to, message = _jid_of(chat_id), _built(edits.revoke, chat_id, id_message)
        self._call(lambda lib: lib.send_message(to, message))

    def edit(self, chat_id: str, id_message: str, text: str) -> None:
        to, message = _jid_of(chat_id), _built(edits.edit, chat_id, id_message, text)
        self._call(lambda lib: lib.send_message(to, message))

    def typing(self, chat_id: str, state: str) -> None:
        jid = _jid_of(chat_id)
        shown = getattr(_enum.ChatPresence, _PRESENCES[state])
        kind = getattr(_enum.ChatPresenceMedia, _PRESENCE_MEDIA[state])
        self._call(lambda lib: lib.send_chat_presence(jid, shown, kind))

    def disappearing(self, chat_id: str, expiration_s: int) -> None:
        jid = _jid_of(chat_id)
        timer = timedelta(seconds=expiration_s)
        self._call(lambda lib: lib.set_disappearing_timer(jid, timer))

    def profile_picture(self, picture: FileToSend) -> None:
        self._call(lambda lib: lib.set_profile_photo(picture.content))

    def block(self, chat_id: str, blocked: bool) -> None:
        jid = _jid_of(chat_id)
        action = _enum.BlocklistAction.BLOCK if blocked else _enum.BlocklistAction.UNBLOCK
        self._call(lambda lib: lib.update_blocklist(jid, action))

    # -- the library client ----------------------------------------------------------------

    def _new_library_client(self) -> Any:
        jid = device_jid(self._jid) if self._jid else None
        lib = _client.NewClient(self._dsn, jid=jid, new_device=jid is None)
        # The uuid keys the Go maps; by default it is the phone number, which two devices of
        # one phone (or a connect left hanging and the next one) would share.
        lib.uuid = self._factory.next_uuid().encode()
        # A Stop on garbage collection would write the Go maps outside the gate.
        lib._stop_finalizer.detach()
        lib.event.qr(self._on_qr)
        lib._NewClient__onLoginStatus = self._on_login_status
        for event_class, handler in self._handlers().items():
            lib.event(event_class)(handler)
        return lib

    def _stop_library(self, lib: Any) -> None:
        with self._gate.writer():
            with self._lock:
                if self._lib is lib:
                    self._running = False
            lib.stop()

    def _call(self, call: Callable[[Any], T]) -> T:
        """One library call on the running connect, under a reader's lease."""
        with self._gate.reader():
            with self._lock:
                lib = self._lib if self._running else None
            if lib is None:
                raise ClientError("not connected")
            try:
                return call(lib)
            except _exc.NeonizeError as exc:
                raise ClientError(str(exc) or type(exc).__name__) from None

    def _refused(self, call: Callable[[Any], T]) -> tuple[str, T | None]:
        """A group change: ("", its answer), or (the reason, None) when WhatsApp refused it.
        Any other failure (not connected, the network) stays a ClientError."""
        try:
            return "", self._call(call)
        except ClientError as exc:
            reason = groups.refusal(str(exc))
            if reason is None:
                raise
            return reason, None

    def _me_chat(self) -> str:
        """The account's own chat id (``<phone>@c.us``), "" before it is linked."""
        return f"{self._jid.partition('@')[0].partition(':')[0]}@c.us" if self._jid else ""

    def _end_startup(self) -> None:
        """The library called back (or the connect returned): its start-up writes are done,
        and so are the map reads a login window's end leads to."""
        with self._lock:
            hold, self._startup = self._startup, None
            login, self._login_hold = self._login_hold, None
            if hold is not None and not self._stopped:
                self._running = True
        for held in (hold, login):
            if held is not None:
                held.release()

    def _media(self, media: translate.Media, file: FileToSend) -> Any:
        """Upload and describe a file (``translate.Outgoing.media``)."""
        library_type = getattr(_enum.MediaType, _UPLOAD_TYPES[media.kind])
        upload = self._call(lambda lib: lib.upload(file.content, library_type))
        # What the bytes say, unless they said nothing useful: then what the message says.
        mime_type = file.mime_type
        if mime_type.split(";", 1)[0] in _GENERIC_TYPES:
            mime_type = media.mime_type
        return translate.media_message(media, upload, mime_type=mime_type)

    def _download(self, received: Received, ev: Any) -> bytes | None:
        """The file of a received media message, or None (logged) when it cannot be had."""
        found = translate.media_part(ev.Message)
        if found is None:
            return None
        name, part = found
        limit = self._factory.options.media_max_bytes
        what = f"the {name} of message {received.id_message}"
        if part.fileLength > limit:
            log.warning(
                "%s is not downloaded: %d bytes, over the limit of %d", what, part.fileLength, limit
            )
            return None
        # DownloadAny takes the first media it finds; a round video note downloads as a video.
        only = proto.Message()
        getattr(only, "videoMessage" if name == "ptvMessage" else name).CopyFrom(part)
        try:
            content: bytes = self._call(lambda lib: lib.download_any(only))
        except ClientError as exc:
            log.warning("%s could not be downloaded: %s", what, exc)
            return None
        if len(content) > limit:
            log.warning("%s is not kept: %d bytes, over the limit of %d", what, len(content), limit)
            return None
        return content

    # -- callbacks (on the library's thread of this connect) ---------------------------------

    def _on_qr(self, _lib: Any, code: bytes) -> None:
        with _reported("qr"):
            self._end_startup()
            self._qr_count += 1
            life_s = _FIRST_QR_S if self._qr_count == 1 else _NEXT_QR_S
            expires_ms = int(time.time() * 1000) + life_s * 1000
            self._events.qr(code.decode(), expires_ms)

    def _on_login_status(self, _uuid: int, status: int) -> None:
        with _reported("login status"):
            name = ctypes.string_at(status).decode(errors="replace")
            # The library's event loop starts right after this returns and reads the Go maps:
            # a reader's lease covers it (it lapses by itself; nothing calls back after a
            # timeout, see the module docstring).
            login = self._gate.read_hold()
            with self._lock:
                self._login_hold = login
            if name == "success":
                log.info("login window: paired")
                return
            if name != "timeout":
                log.warning("login window ended: %s", name)
            self._events.qr_expired()

    def _handlers(self) -> dict[Any, Callable[[Any, Any], None]]:
        """Event class -> handler; a handler gets the library client that reported and the
        event (a late event of an earlier connect acts on that connect only)."""

        def on(kind: str, body: Callable[[Any, Any], None]) -> Callable[[Any, Any], None]:
            def handler(lib: Any, ev: Any) -> None:
                with _reported(kind):
                    self._end_startup()
                    body(lib, ev)

            return handler

        events = self._events

        def failed(reason: Callable[[Any], str]) -> Callable[[Any, Any], None]:
            return lambda lib, ev: self._failed(lib, reason(ev))

        return {
            _ev.PairStatusEv: on("pair status", lambda lib, ev: self._paired(ev)),
            _ev.ConnectedEv: on("connected", lambda lib, ev: events.connected(self._me(lib))),
            _ev.LoggedOutEv: on(
                "logged out", lambda lib, ev: events.logged_out(_enum_name(ev, "Reason"))
            ),
            _ev.StreamReplacedEv: on("stream replaced", lambda lib, ev: events.replaced()),
            _ev.TemporaryBanEv: on(
                "ban", lambda lib, ev: events.banned(_enum_name(ev, "Code"), int(ev.Expire))
            ),
            _ev.ConnectFailureEv: on(
                "connect failure",
                failed(lambda ev: f"{_enum_name(ev, 'Reason')}: {ev.Message}".strip()),
            ),
            _ev.ClientOutdatedEv: on("outdated", failed(lambda ev: "client outdated")),
            _ev.StreamErrorEv: on("stream error", failed(lambda ev: f"stream error {ev.Code}")),
            _ev.DisconnectedEv: on(
                "disconnected", lambda lib, ev: events.disconnected("connection closed")
            ),
            _ev.KeepAliveTimeoutEv: on(
                "keepalive",
                lambda lib, ev: events.disconnected(f"keepalive timeout ({ev.ErrorCount} missed)"),
            ),
            _ev.MessageEv: on("message", lambda lib, ev: self._message(ev)),
            _ev.ReceiptEv: on("receipt", lambda lib, ev: self._receipt(ev)),
            _ev.ChatPresenceEv: on("chat presence", lambda lib, ev: self._chat_presence(ev)),
            _ev.PresenceEv: on("presence", lambda lib, ev: self._presence(ev)),
        }

    def _me(self, lib: Any) -> str:
        """This device's JID, from the record the library sends as its event loop starts."""
        me = getattr(lib, "me", None)
        if me is not None and me.JID.User:
            return device_jid_text(me.JID)
        return self._jid or ""

    def _paired(self, ev: Any) -> None:
        if ev.Status != _PAIR_SUCCESS:
            log.warning("pairing failed: %s", ev.Error)
            return
        self._jid = device_jid_text(ev.ID)
        self._events.paired(self._jid)

    def _failed(self, lib: Any, reason: str) -> None:
        """The server refused or ended the connection and the library will not retry: stop
        it so that connect returns and raises, and the worker retries with backoff. (From
        another thread: this one is the library's, inside its event loop.)"""
        self._failure = reason
        self._events.disconnected(reason)
        threading.Thread(target=self._stop_library, args=(lib,), daemon=True).start()

    def _message(self, ev: Any) -> None:
        if ev.Message.HasField("pollUpdateMessage"):
            self._poll_vote(ev)
            return
        received = translate.received(ev, me=self._me_chat())
        if received is None:
            return
        if received.message_data.get("typeMessage") == "pollMessage":
            self._keep_poll(received.id_message, translate.poll_of(received.message_data))
        if "fileMessageData" in received.message_data:
            file = self._download(received, ev)
            if file is not None:
                received = dataclasses.replace(received, file=file)
        self._events.message(received)

    def _poll_vote(self, ev: Any) -> None:
        """A vote, decrypted with the poll's secret (the library keeps it in the store) and
        counted into the poll's tally; a vote on a poll this worker has not seen is dropped
        with a log line (its options are not known here)."""
        stanza = ev.Message.pollUpdateMessage.pollCreationMessageKey.ID
        with self._lock:
            poll = self._polls.get(stanza)
        what = f"the vote {ev.Info.ID} on poll {stanza}"
        if poll is None:
            log.warning("%s is not reported: the poll was sent before this worker started", what)
            return
        try:
            vote = self._call(lambda lib: lib.decrypt_poll_vote(ev))
        except ClientError as exc:
            log.warning("%s could not be decrypted: %s", what, exc)
            return
        received, counted = translate.poll_update(ev, list(vote.selectedOptions), poll)
        self._keep_poll(stanza, counted)
        self._events.message(received)

    def _keep_poll(self, id_message: str, poll: translate.Poll) -> None:
        # Sends (call threads) and votes (the library's thread) both keep polls.
        with self._lock:
            self._polls[id_message] = poll
            self._polls.move_to_end(id_message)
            while len(self._polls) > _POLLS_KEPT:
                self._polls.popitem(last=False)

    def _receipt(self, ev: Any) -> None:
        status = translate.receipt_status(ev)
        if status is not None:
            chat_id = translate.chat_id_of(ev.MessageSource.Chat)
            self._events.receipt(chat_id=chat_id, id_messages=list(ev.MessageIDs), status=status)

    def _chat_presence(self, ev: Any) -> None:
        chat_id, status = translate.chat_presence(ev)
        self._events.presence(chat_id=chat_id, status=status, last_seen_ms=None)

    def _presence(self, ev: Any) -> None:
        chat_id, status, last_seen_ms = translate.presence(ev)
        self._events.presence(chat_id=chat_id, status=status, last_seen_ms=last_seen_ms)


# translate's media kinds -> the library's MediaType for the upload (a sticker is an image).
_UPLOAD_TYPES = {
    "image": "MediaImage",
    "video": "MediaVideo",
    "audio": "MediaAudio",
    "sticker": "MediaImage",
    "document": "MediaDocument",
}
# Client.typing's states -> the library's ChatPresence and ChatPresenceMedia (recording is
# composing a voice note).
_PRESENCES = {
    "composing": "CHAT_PRESENCE_COMPOSING",
    "recording": "CHAT_PRESENCE_COMPOSING",
    "paused": "CHAT_PRESENCE_PAUSED",
}
_PRESENCE_MEDIA = {
    "composing": "CHAT_PRESENCE_MEDIA_TEXT",
    "recording": "CHAT_PRESENCE_MEDIA_AUDIO",
    "paused": "CHAT_PRESENCE_MEDIA_TEXT",
}
_GENERIC_TYPES = ("", "application/octet-stream", "binary/octet-stream")


def _jid_of(chat_id: str) -> Any:
    """The JID of a chat id; ClientError for what is none."""
    try:
        return translate.jid_of(chat_id)
    except ValueError as exc:
        raise ClientError(str(exc)) from None


def _built(build: Callable[..., T], *args: Any) -> T:
    """A message built from chat ids; ClientError for a chat id of no chat."""
    try:
        return build(*args)
    except ValueError as exc:
        raise ClientError(str(exc)) from None


def _enum_name(message: Any, field: str) -> str:
    """The name of an enum field's value (its number when the proto does not know it)."""
    value = getattr(message, field)
    enum = message.DESCRIPTOR.fields_by_name[field].enum_type
    known = enum.values_by_number.get(value) if enum is not None else None
    return str(known.name) if known is not None else str(value)


@contextlib.contextmanager
def _reported(what: str) -> Any:
    """Log a callback's exception: raised through ctypes it would go to stderr and vanish."""
    try:
        yield
    except Exception:
        log.exception("handling the library's %s callback failed", what)
