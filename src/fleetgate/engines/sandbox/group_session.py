"""The group methods of a sandbox session (engines/base.py GroupSession), acting as its phone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.files import StoredFile
from fleetgate.engines.base import EngineError, EngineHost
from fleetgate.engines.sandbox import groups, network

if TYPE_CHECKING:
    from fleetgate.engines.sandbox.engine import SandboxEngine

NOT_AUTHORIZED = "instance account not authorized"


def phone_of(chat_id: str) -> str:
    """The phone of a ``…@c.us`` chat id (the façade has checked its form)."""
    return chat_id.removesuffix("@c.us")


class GroupMethods:
    """Mixed into SandboxSession: what its phone does in groups."""

    engine: SandboxEngine

    if TYPE_CHECKING:  # SandboxSession's: the phone the instance is linked to, if any

        @property
        def phone(self) -> str | None: ...

    def _me(self) -> str:
        phone = self.phone
        if phone is None:
            raise EngineError(NOT_AUTHORIZED)
        return phone

    @property
    def _host(self) -> EngineHost:
        return self.engine.host

    async def _change(self, act: Callable[[AsyncSession, str], Awaitable[str]]) -> str:
        me = self._me()
        async with self._host.db.transaction() as session:
            return await act(session, me)

    async def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        me = self._me()
        async with self._host.db.transaction() as session:
            group = await groups.create(
                session, owner=me, subject=name, members=[phone_of(p) for p in participants]
            )
            return {"chatId": group.group_id, "groupInviteLink": groups.invite_link(group)}

    async def group_data(self, group_id: str) -> dict[str, Any] | None:
        me = self._me()
        async with self._host.db.reading() as session:
            return await groups.data(session, group_id, viewer=me)

    async def update_group_name(self, group_id: str, name: str) -> str:
        return await self._change(
            lambda s, me: groups.rename(s, actor=me, group_id=group_id, subject=name)
        )

    async def add_group_participant(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.add(s, actor=me, group_id=group_id, phone=phone_of(participant))
        )

    async def remove_group_participant(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.remove(s, actor=me, group_id=group_id, phone=phone_of(participant))
        )

    async def set_group_admin(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.set_admin(
                s, actor=me, group_id=group_id, phone=phone_of(participant), admin=True
            )
        )

    async def remove_group_admin(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.set_admin(
                s, actor=me, group_id=group_id, phone=phone_of(participant), admin=False
            )
        )

    async def leave_group(self, group_id: str) -> str:
        return await self._change(lambda s, me: groups.leave(s, actor=me, group_id=group_id))

    async def set_group_picture(self, group_id: str, picture: StoredFile) -> str:
        payload = network.file_payload(picture)
        return await self._change(
            lambda s, me: groups.set_picture(s, actor=me, group_id=group_id, picture=payload)
        )

    async def update_group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        return await self._change(
            lambda s, me: groups.update_settings(
                s,
                actor=me,
                group_id=group_id,
                members_edit=members_edit,
                members_send=members_send,
            )
        )
