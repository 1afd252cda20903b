"""The group methods of a sandbox session (engines/base.py GroupSession), acting as its phone."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.domain.files import StoredFile
from fleetgate.engines.base import EngineError, EngineHost
from fleetgate.engines.sandbox import group_admin, groups
from fleetgate.storage.signals import Signals

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

    @property
    def _signals(self) -> Signals:
        return self._host.signals

    async def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        me = self._me()
        async with self._host.db.transaction() as session:
            group = await groups.create(
                session,
                self._signals,
                owner=me,
                subject=name,
                members=[phone_of(p) for p in participants],
            )
            return {"chatId": group.group_id, "groupInviteLink": groups.invite_link(group)}

    async def group_data(self, group_id: str) -> dict[str, Any] | None:
        me = self._me()
        async with self._host.db.reading() as session:
            return await groups.data(session, group_id, viewer=me)

    async def update_group_name(self, group_id: str, name: str) -> str:
        return await self._change(
            lambda s, me: groups.rename(s, self._signals, actor=me, group_id=group_id, subject=name)
        )

    async def add_group_participant(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.add(
                s, self._signals, actor=me, group_id=group_id, phone=phone_of(participant)
            )
        )

    async def remove_group_participant(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.remove(
                s, self._signals, actor=me, group_id=group_id, phone=phone_of(participant)
            )
        )

    async def set_group_admin(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.set_admin(
                s,
                self._signals,
                actor=me,
                group_id=group_id,
                phone=phone_of(participant),
                admin=True,
            )
        )

    async def remove_group_admin(self, group_id: str, participant: str) -> str:
        return await self._change(
            lambda s, me: groups.set_admin(
                s,
                self._signals,
                actor=me,
                group_id=group_id,
                phone=phone_of(participant),
                admin=False,
            )
        )

    async def leave_group(self, group_id: str) -> str:
        return await self._change(
            lambda s, me: groups.leave(s, self._signals, actor=me, group_id=group_id)
        )

    async def set_group_picture(self, group_id: str, picture: StoredFile) -> str:
        payload = picture.as_json()
        return await self._change(
            lambda s, me: groups.set_picture(
                s, self._signals, actor=me, group_id=group_id, picture=payload
            )
        )

    async def update_group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        return await self._change(
            lambda s, me: groups.update_settings(
                s,
                self._signals,
                actor=me,
                group_id=group_id,
                members_edit=members_edit,
                members_send=members_send,
            )
        )

    # GroupAdminSession: what the Z-API group routes need besides.

    async def group_metadata(self, group_id: str) -> dict[str, Any] | None:
        me = self._me()
        async with self._host.db.reading() as session:
            return await group_admin.metadata(session, group_id, viewer=me)

    async def joined_groups(self) -> list[dict[str, Any]]:
        me = self._me()
        async with self._host.db.reading() as session:
            found = [
                await group_admin.metadata(session, g, viewer=me)
                for g in await groups.groups_of(session, me)
            ]
        return [g for g in found if g is not None]

    async def update_group_description(self, group_id: str, description: str) -> str:
        return await self._change(
            lambda s, me: group_admin.describe(
                s, self._signals, actor=me, group_id=group_id, text=description
            )
        )

    async def update_group_policy(
        self, group_id: str, *, members_add: bool | None, approval: bool | None
    ) -> str:
        return await self._change(
            lambda s, me: group_admin.set_policy(
                s,
                self._signals,
                actor=me,
                group_id=group_id,
                members_add=members_add,
                approval=approval,
            )
        )

    async def reset_group_invite(self, group_id: str) -> dict[str, str]:
        me = self._me()
        async with self._host.db.transaction() as session:
            link, reason = await group_admin.reset_invite(
                session, self._signals, actor=me, group_id=group_id
            )
        return {"link": link, "reason": reason}

    async def group_invite_info(self, link: str) -> dict[str, Any] | None:
        self._me()
        async with self._host.db.reading() as session:
            return await group_admin.invite_info(session, link)

    async def join_group(self, link: str) -> dict[str, str]:
        me = self._me()
        async with self._host.db.transaction() as session:
            group_id, state, reason = await group_admin.join(
                session, self._signals, phone=me, link=link
            )
        return {"groupId": group_id, "state": state, "reason": reason}

    async def decide_group_request(self, group_id: str, participant: str, *, approve: bool) -> str:
        return await self._change(
            lambda s, me: group_admin.decide(
                s,
                self._signals,
                actor=me,
                group_id=group_id,
                phone=phone_of(participant),
                approve=approve,
            )
        )
