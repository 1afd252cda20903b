"""Sandbox sessions: they connect to the virtual network in the database instead of a server."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from fleetgate.domain.chats import CallStatus, deleted, edited
from fleetgate.domain.files import StoredFile
from fleetgate.domain.instances import State
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import (
    ALREADY_AUTHORIZED,
    CallEvent,
    EngineError,
    EngineHost,
    IncomingMessage,
    NotInGroup,
    OutgoingMessage,
    OutgoingStatus,
    QrCode,
    SessionEvents,
    SessionSpec,
    StatusRecord,
)
from fleetgate.engines.sandbox import chats, group_events, groups, network, statuses
from fleetgate.engines.sandbox.group_session import GroupMethods
from fleetgate.ids import is_digits, new_message_id

_SWEEP_BATCH = 1000


class SandboxEngine:
    """Builds sandbox sessions and routes the network's signals to them."""

    name = "sandbox"

    def __init__(self, host: EngineHost) -> None:
        self.host = host
        self._sessions: dict[int, SandboxSession] = {}
        host.signals.listen(network.CHANNEL, self._on_signal)

    def open_session(self, spec: SessionSpec, events: SessionEvents) -> SandboxSession:
        return SandboxSession(self, spec, events)

    async def sweep(self) -> None:
        """Poke every session whose link differs from its credentials or that has events
        waiting (a lost wake-up only delays)."""
        sessions = dict(self._sessions)
        ids = sorted(sessions)
        for start in range(0, len(ids), _SWEEP_BATCH):
            chunk = ids[start : start + _SWEEP_BATCH]
            async with self.host.db.reading() as session:
                links = await network.links_of(session, chunk)
                waiting = set(await network.behind(session, chunk))
            for id_instance in chunk:
                if links.get(id_instance) != sessions[id_instance].phone or id_instance in waiting:
                    sessions[id_instance].poke_soon()

    def _on_signal(self, payload: str) -> None:
        session = self._sessions.get(int(payload)) if payload.isdigit() else None
        if session is not None:
            session.poke_soon()

    def _attach(self, session: SandboxSession) -> None:
        self._sessions[session.id_instance] = session

    def _detach(self, session: SandboxSession) -> None:
        if self._sessions.get(session.id_instance) is session:
            del self._sessions[session.id_instance]


class SandboxSession(GroupMethods):
    """One instance connected to the virtual network."""

    def __init__(self, engine: SandboxEngine, spec: SessionSpec, events: SessionEvents) -> None:
        self.engine = engine
        self.id_instance = spec.id_instance
        self.events = events
        self._auth: dict[str, Any] | None = spec.auth
        self._lock = asyncio.Lock()
        self._running = False
        self._pokes: set[asyncio.Task[None]] = set()

    @property
    def phone(self) -> str | None:
        phone = (self._auth or {}).get("phone")
        return phone if isinstance(phone, str) else None

    async def start(self) -> None:
        self._running = True
        self.engine._attach(self)
        await self.poke()

    async def stop(self) -> None:
        self._running = False
        self.engine._detach(self)
        # Wait for the cancelled pokes to end: one cut short inside a transaction must roll it
        # back before the session counts as stopped (on SQLite a connection left holding the
        # write lock stops every other writer of the file).
        pokes = [task for task in self._pokes if task is not asyncio.current_task()]
        for task in pokes:
            task.cancel()
        await asyncio.gather(*pokes, return_exceptions=True)

    async def logout(self) -> None:
        async with self._lock:
            async with self.engine.host.db.transaction() as session:
                await network.unlink(session, self.engine.host.signals, self.id_instance)
            await self._set_auth(None)

    async def qr(self) -> QrCode:
        async with self._lock:
            self._check_running()
            if self.phone is not None:
                raise EngineError(ALREADY_AUTHORIZED)
            async with self.engine.host.db.transaction() as session:
                return await network.current_qr(session, self.id_instance)

    async def pairing_code(self, phone: str) -> str:
        async with self._lock:
            self._check_running()
            if self.phone is not None:
                raise EngineError(ALREADY_AUTHORIZED)
            async with self.engine.host.db.transaction() as session:
                return await network.new_pairing_code(session, self.id_instance, phone)

    async def poke(self) -> None:
        """Compare our credentials with the network's link and follow it."""
        async with self._lock:
            if not self._running:
                return
            async with self.engine.host.db.reading() as session:
                linked = await network.linked_phone(session, self.id_instance)
            if linked is None:
                await self._set_auth(None)
            elif linked != self.phone:
                await self._set_auth({"phone": linked})
            else:
                await self.events.state_changed(State.AUTHORIZED, wid=f"{linked}@c.us")
            if self.phone is not None:
                await self._take_in(self.phone)

    async def send(self, message: OutgoingMessage) -> None:
        """Send under our id: the virtual network keeps whatever id it is given."""
        phone = self.phone
        if phone is None or not self._running:
            raise EngineError("instance account not authorized")
        to_phone = message.chat_id.removesuffix("@c.us")
        payload: dict[str, Any] = {"messageData": message.message_data, "senderName": phone}
        if message.file is not None:
            payload["file"] = message.file.as_json()
        if message.chat_id.endswith("@g.us"):
            return await self._send_to_group(phone, message, payload)
        if not is_digits(to_phone):
            raise EngineError("chatId must be <phone>@c.us or <group>@g.us")
        async with self.engine.host.db.transaction() as session:
            await network.post_message(
                session,
                self.engine.host.signals,
                from_phone=phone,
                to_phone=to_phone,
                id_message=message.id_message,
                payload=payload,
            )

    async def _send_to_group(
        self, phone: str, message: OutgoingMessage, payload: dict[str, Any]
    ) -> None:
        async with self.engine.host.db.transaction() as session:
            refused = await groups.post_message(
                session,
                self.engine.host.signals,
                from_phone=phone,
                group_id=message.chat_id,
                id_message=message.id_message,
                payload=payload,
            )
        if refused == groups.NOT_MEMBER:
            raise NotInGroup(refused)
        if refused:
            raise EngineError(refused)

    async def exists(self, phone: str) -> bool:
        async with self.engine.host.db.reading() as session:
            return await network.phone_exists(session, phone)

    async def read_chat(self, chat_id: str, id_messages: list[str]) -> None:
        phone = self.phone
        if phone is None or not id_messages:
            return
        async with self.engine.host.db.transaction() as session:
            if chat_id.endswith("@g.us"):  # each author gets receipts for their own messages
                by_sender = await network.senders_of(session, phone, id_messages)
            else:
                by_sender = {chat_id.removesuffix("@c.us"): id_messages}
            for sender, ids in by_sender.items():
                await network.post_receipts(
                    session,
                    self.engine.host.signals,
                    from_phone=phone,
                    to_phone=sender,
                    id_messages=ids,
                    status=MessageStatus.READ,
                )

    async def delete_message(self, chat_id: str, id_message: str, *, for_everyone: bool) -> None:
        """For everyone: the other side gets a deletedMessage; else nothing leaves the device."""
        if for_everyone:
            await self._post_change(chat_id, new_message_id(), deleted(id_message))

    async def edit_message(self, chat_id: str, id_message: str, *, id_edit: str, text: str) -> None:
        await self._post_change(chat_id, id_edit, edited(id_message, text))

    async def send_typing(self, chat_id: str, *, recording: bool, duration_ms: int) -> None:
        """The other side sees us typing (or recording); the network keeps no timer."""
        phone, to_phone = self._chat_phones(chat_id)
        async with self.engine.host.db.transaction() as session:
            await network.post_presence(
                session,
                self.engine.host.signals,
                from_phone=phone,
                to_phone=to_phone,
                status="RECORDING" if recording else "COMPOSING",
            )

    async def archive_chat(self, chat_id: str, *, archived: bool) -> None:
        """Archiving is a setting of the account's own devices: the network sees nothing."""
        self._own_chat(chat_id)

    async def set_disappearing(self, chat_id: str, *, expiration_s: int) -> None:
        """Kept by the instance's chat settings; the virtual phones show no timer."""
        self._own_chat(chat_id)

    async def modify_chat(self, chat_id: str, *, action: str) -> None:
        """Pins, mutes, read marks and clearing are settings of the account's own devices
        (kept by the instance's chat settings): the network sees nothing of them."""
        self._own_chat(chat_id)

    async def block_contact(self, chat_id: str, *, blocked: bool) -> None:
        """The contact learns it was blocked (its instance gets incomingBlock); unblocking
        tells nothing, as on WhatsApp."""
        phone, to_phone = self._chat_phones(chat_id)
        if blocked:
            async with self.engine.host.db.transaction() as session:
                await chats.post_block(
                    session, self.engine.host.signals, from_phone=phone, to_phone=to_phone
                )

    def _own_chat(self, chat_id: str) -> None:
        """Check a chat id of the account's own chats: a person's or a group's."""
        if chat_id.endswith("@g.us") and self.phone is not None and self._running:
            return
        self._chat_phones(chat_id)

    def _chat_phones(self, chat_id: str) -> tuple[str, str]:
        phone = self.phone
        if phone is None or not self._running:
            raise EngineError("instance account not authorized")
        to_phone = chat_id.removesuffix("@c.us")
        if not is_digits(to_phone):
            raise EngineError("the sandbox network has no groups; use <phone>@c.us")
        return phone, to_phone

    async def _post_change(self, chat_id: str, id_event: str, data: dict[str, Any]) -> None:
        phone, to_phone = self._chat_phones(chat_id)
        async with self.engine.host.db.transaction() as session:
            await network.post_message(
                session,
                self.engine.host.signals,
                from_phone=phone,
                to_phone=to_phone,
                id_message=id_event,
                payload={"messageData": data, "senderName": phone},
            )

    # Statuses (StatusSession)

    def _own_phone(self) -> str:
        phone = self.phone
        if phone is None or not self._running:
            raise EngineError("instance account not authorized")
        return phone

    async def send_status(self, status: OutgoingStatus) -> None:
        phone = self._own_phone()
        async with self.engine.host.db.transaction() as session:
            await statuses.post(
                session,
                self.engine.host.signals,
                from_phone=phone,
                id_message=status.id_message,
                message_data=status.message_data,
                participants=status.participants,
                media=status.media,
            )

    async def delete_status(self, id_message: str) -> bool:
        phone = self._own_phone()
        async with self.engine.host.db.transaction() as session:
            return await statuses.delete(session, phone=phone, id_message=id_message)

    async def status_statistic(self, id_message: str) -> list[tuple[str, int, str]] | None:
        phone = self._own_phone()
        async with self.engine.host.db.reading() as session:
            return await statuses.statistic(session, phone=phone, id_message=id_message)

    async def statuses(self, *, incoming: bool, since_ms: int) -> list[StatusRecord]:
        phone = self._own_phone()
        read = statuses.incoming if incoming else statuses.outgoing
        async with self.engine.host.db.reading() as session:
            return await read(session, phone=phone, since_ms=since_ms)

    async def set_profile_picture(self, file: StoredFile) -> None:
        """The sandbox shows no pictures: it only checks that the account is there."""
        self._own_phone()

    async def _take_in(self, phone: str) -> None:
        """Hand what the network holds for our phone to the events, then move our cursor."""
        db, signals = self.engine.host.db, self.engine.host.signals
        while self._running:
            async with db.reading() as session:
                cursor = await network.cursor_of(session, self.id_instance)
                batch = await network.events_after(session, phone, cursor)
            if not batch:
                return
            delivered: dict[str, list[str]] = {}
            for event in batch:
                payload = orjson.loads(event.payload)
                chat_id = f"{event.from_phone}@c.us"
                if event.kind == network.MESSAGE:
                    await self.events.message_received(
                        IncomingMessage(
                            id_message=event.id_message,
                            chat_id=str(payload.get("groupId", chat_id)),
                            sender=chat_id,
                            sender_name=str(payload.get("senderName", "")),
                            message_data=_as_received(payload["messageData"]),
                            file=network.file_of(payload),
                            chat_name=str(payload.get("groupName", "")),
                        )
                    )
                    delivered.setdefault(event.from_phone, []).append(event.id_message)
                elif event.kind == network.PRESENCE:
                    last_seen = event.at_ms if payload["status"] == "UNAVAILABLE" else None
                    await self.events.presence(
                        chat_id=chat_id, status=payload["status"], last_seen_ms=last_seen
                    )
                elif event.kind == chats.CALL:
                    await self.events.call(
                        CallEvent(
                            id_call=event.id_message,
                            chat_id=chat_id,
                            status=CallStatus(payload["status"]),
                            is_video=bool(payload.get("isVideo", False)),
                        )
                    )
                elif event.kind == chats.BLOCK:
                    await self.events.blocked(chat_id=chat_id)
                elif event.kind == group_events.GROUP:
                    await self.events.group_changed(
                        group_events.event_of(event.id_message, event.from_phone, payload)
                    )
                else:
                    await self.events.receipt(
                        id_message=event.id_message,
                        chat_id=chat_id,
                        status=MessageStatus(payload["status"]),
                    )
            async with db.transaction() as session:
                for sender, ids in delivered.items():
                    await network.post_receipts(
                        session,
                        signals,
                        from_phone=phone,
                        to_phone=sender,
                        id_messages=ids,
                        status=MessageStatus.DELIVERED,
                    )
                await network.advance_cursor(session, self.id_instance, batch[-1].id)

    def _check_running(self) -> None:
        if not self._running:
            raise EngineError("instance in starting process try later")

    def poke_soon(self) -> None:
        task = asyncio.get_running_loop().create_task(self.poke())
        self._pokes.add(task)
        task.add_done_callback(self._pokes.discard)

    async def _set_auth(self, auth: dict[str, Any] | None) -> None:
        if auth != self._auth:
            await self.events.auth_changed(auth)
            self._auth = auth
        if self.phone is None:
            await self.events.state_changed(State.NOT_AUTHORIZED, wid="")
        else:
            await self.events.state_changed(State.AUTHORIZED, wid=f"{self.phone}@c.us")


def _as_received(data: dict[str, Any]) -> dict[str, Any]:
    """A text sent through the API arrives as a plain textMessage, as on a real phone."""
    if data.get("typeMessage") == "extendedTextMessage":
        text = data.get("extendedTextMessageData", {}).get("text", "")
        return {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}
    return data
