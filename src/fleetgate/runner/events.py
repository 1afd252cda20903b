"""What a session reports, made durable: state, credentials, messages and receipts."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.clock import now_ms
from fleetgate.domain.groups import GroupEvent
from fleetgate.domain.instances import InstanceView, State
from fleetgate.domain.messages import MessageStatus
from fleetgate.engines.base import CallEvent, IncomingMessage, Session
from fleetgate.services import chats, messaging, outbox, states, zapi_group_callbacks
from fleetgate.services.media import Media
from fleetgate.services.zapi_callbacks import PRESENCE_EVENT
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.signals import Signals


class InstanceEvents:
    """SessionEvents for one instance; silent once its session was stopped."""

    def __init__(
        self,
        db: Database,
        signals: Signals,
        media: Media,
        id_instance: int,
        kick: Callable[[int], None],
    ) -> None:
        self.db = db
        self.signals = signals
        self.media = media
        self.id_instance = id_instance
        self.active = True
        # Called when the instance may have something to send now (it became authorized).
        self.kick = kick
        self.session: Session | None = None

    async def state_changed(self, state: State, *, wid: str) -> None:
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
        if state == State.AUTHORIZED:
            self.kick(self.id_instance)

    async def auth_changed(self, auth: dict[str, Any] | None) -> None:
        if not self.active:
            return
        blob = None if auth is None else orjson.dumps(auth).decode()
        async with self.db.transaction() as session:
            await repo.update_values(session, self.signals, self.id_instance, {"engine_auth": blob})

    async def message_received(self, message: IncomingMessage) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            instance = await self._instance(session)
            if instance is None:
                return
            added = await messaging.record_incoming(
                session=session,
                signals=self.signals,
                instance=instance,
                message=message,
                media=self.media,
            )
        marks_read = (
            not message.from_me
            and instance.switches.get("mark_incoming_messages_read", False)
            and not (instance.switches.get("mark_incoming_messages_read_on_reply", False))
        )
        if added and marks_read and self.session is not None:
            await self.session.read_chat(message.chat_id, [message.id_message])

    async def receipt(self, *, id_message: str, chat_id: str, status: MessageStatus) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            instance = await self._instance(session)
            if instance is not None:
                await messaging.record_receipt(
                    session=session,
                    signals=self.signals,
                    instance=instance,
                    id_message=id_message,
                    status=status,
                )

    async def presence(self, *, chat_id: str, status: str, last_seen_ms: int | None) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            instance = await self._instance(session)
            # Presence is only ever a callback: nothing to write without a URL for it.
            if instance is not None and instance.callbacks.get("presence_chat"):
                await outbox.emit(
                    session=session,
                    signals=self.signals,
                    instance=instance,
                    type_webhook=PRESENCE_EVENT,
                    fields={"chatId": chat_id, "status": status, "lastSeen": last_seen_ms},
                )

    async def call(self, call: CallEvent) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            instance = await self._instance(session)
            if instance is not None:
                await chats.record_call(
                    session=session,
                    signals=self.signals,
                    instance=instance,
                    id_call=call.id_call,
                    chat_id=call.chat_id,
                    status=call.status,
                    is_video=call.is_video,
                    from_me=call.from_me,
                )

    async def blocked(self, *, chat_id: str) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            instance = await self._instance(session)
            if instance is not None:
                await chats.record_block(
                    session=session, signals=self.signals, instance=instance, chat_id=chat_id
                )

    async def group_changed(self, event: GroupEvent) -> None:
        if not self.active:
            return
        async with self.db.transaction() as session:
            instance = await self._instance(session)
            # Only ever a Z-API callback: nothing to write without a URL for it.
            if instance is not None and zapi_group_callbacks.wanted(instance):
                await outbox.emit(
                    session=session,
                    signals=self.signals,
                    instance=instance,
                    type_webhook=zapi_group_callbacks.GROUP_EVENT,
                    fields=zapi_group_callbacks.event_fields(event),
                )

    async def _instance(self, session: AsyncSession) -> InstanceView | None:
        found = await repo.view(session, self.id_instance, now=now_ms())
        return found[0] if found else None
