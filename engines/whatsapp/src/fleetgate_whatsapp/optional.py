"""The optional session methods a whatsapp session has (engines/base.py ``GroupSession``,
``ChatSession`` and ``ProfileSession``): each one op of the worker (ipc.OPS), which asks the
library. What the library cannot do is left out, so the runner answers NOT_SUPPORTED for it
(``archive_chat`` and the status methods: docs/whatsapp.md, *Optional methods*).

A group change answers "" or the reason WhatsApp refused it (``groups.py``), as the sandbox
engine answers; EngineError is for what could not be asked (not linked, the worker's end).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Coroutine
from typing import Any

from fleetgate.domain.files import StoredFile
from fleetgate.engines.base import EngineError

# Why a deletion only on the account's own devices is refused (see docs/whatsapp.md).
ONLY_MINE_TEXT = (
    "deleting a message only on the account's devices is not supported by the whatsapp engine"
)


class OptionalMethods:
    """Mixed into WhatsAppSession, which provides the hooks below."""

    # Typing shown in a chat, to be paused when its time is up (a new one replaces it).
    _typing: dict[str, asyncio.Task[None]]

    async def _ask(self, op: str, args: dict[str, Any]) -> Any:
        """Call the worker for the linked device (EngineError when it is not linked)."""
        raise NotImplementedError

    async def _file(self, file: StoredFile) -> dict[str, Any]:
        """A file as a call carries it: its bytes, from the media store."""
        raise NotImplementedError

    def _remote_id(self, id_message: str) -> str:
        """WhatsApp's id of a message fleetgate knows as ``id_message``."""
        raise NotImplementedError

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        raise NotImplementedError

    # Groups.

    async def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        made = await self._ask("create_group", {"name": name, "participants": participants})
        return {"chatId": str(made["chatId"]), "groupInviteLink": str(made["groupInviteLink"])}

    async def group_data(self, group_id: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = await self._ask("group_data", {"group_id": group_id})
        return found

    async def update_group_name(self, group_id: str, name: str) -> str:
        return str(await self._ask("rename_group", {"group_id": group_id, "name": name}))

    async def add_group_participant(self, group_id: str, participant: str) -> str:
        return await self._participant(group_id, participant, "add")

    async def remove_group_participant(self, group_id: str, participant: str) -> str:
        return await self._participant(group_id, participant, "remove")

    async def set_group_admin(self, group_id: str, participant: str) -> str:
        return await self._participant(group_id, participant, "promote")

    async def remove_group_admin(self, group_id: str, participant: str) -> str:
        return await self._participant(group_id, participant, "demote")

    async def leave_group(self, group_id: str) -> str:
        return str(await self._ask("leave_group", {"group_id": group_id}))

    async def set_group_picture(self, group_id: str, picture: StoredFile) -> str:
        file = await self._file(picture)
        return str(await self._ask("group_picture", {"group_id": group_id, "file": file}))

    async def update_group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        args = {"group_id": group_id, "members_edit": members_edit, "members_send": members_send}
        return str(await self._ask("group_settings", args))

    # GroupAdminSession: what the library can do of it (docs/whatsapp.md, *Optional methods*).

    async def update_group_description(self, group_id: str, description: str) -> str:
        args = {"group_id": group_id, "description": description}
        return str(await self._ask("describe_group", args))

    async def reset_group_invite(self, group_id: str) -> dict[str, str]:
        made = await self._ask("reset_invite", {"group_id": group_id})
        return {"link": str(made["link"]), "reason": str(made["reason"])}

    async def join_group(self, link: str) -> dict[str, str]:
        joined = await self._ask("join_group", {"link": link})
        return {k: str(joined[k]) for k in ("groupId", "state", "reason")}

    async def _participant(self, group_id: str, participant: str, action: str) -> str:
        args = {"group_id": group_id, "participant": participant, "action": action}
        return str(await self._ask("group_participant", args))

    # Chats and the account's own messages.

    async def delete_message(self, chat_id: str, id_message: str, *, for_everyone: bool) -> None:
        if not for_everyone:
            # A deletion "for me" is an app-state change the library does not expose.
            raise EngineError(ONLY_MINE_TEXT)
        args = {"chat_id": chat_id, "id_message": self._remote_id(id_message)}
        await self._ask("revoke", args)

    async def edit_message(self, chat_id: str, id_message: str, *, id_edit: str, text: str) -> None:
        # WhatsApp names an edit by the edited message; ``id_edit`` is fleetgate's alone.
        args = {"chat_id": chat_id, "id_message": self._remote_id(id_message), "text": text}
        await self._ask("edit", args)

    async def send_typing(self, chat_id: str, *, recording: bool, duration_ms: int) -> None:
        """Show typing (or recording) now, and stop showing it once ``duration_ms`` is over
        (WhatsApp shows it until told otherwise, or for about 25 s on some phones)."""
        state = "recording" if recording else "composing"
        await self._ask("typing", {"chat_id": chat_id, "state": state})
        earlier = self._typing.pop(chat_id, None)
        if earlier is not None:
            earlier.cancel()
        self._typing[chat_id] = self._spawn(self._pause_typing(chat_id, duration_ms / 1000))

    async def _pause_typing(self, chat_id: str, after_s: float) -> None:
        task = asyncio.current_task()
        try:
            await asyncio.sleep(after_s)
            # A session stopped or unlinked meanwhile has nothing to pause.
            with contextlib.suppress(EngineError):
                await self._ask("typing", {"chat_id": chat_id, "state": "paused"})
        finally:
            if self._typing.get(chat_id) is task:
                del self._typing[chat_id]

    async def set_disappearing(self, chat_id: str, *, expiration_s: int) -> None:
        await self._ask("disappearing", {"chat_id": chat_id, "expiration_s": expiration_s})

    # ChatMarkSession: blocking (the chat marks are app-state the library does not expose).

    async def block_contact(self, chat_id: str, *, blocked: bool) -> None:
        await self._ask("block", {"chat_id": chat_id, "blocked": blocked})

    # The account's profile.

    async def set_profile_picture(self, file: StoredFile) -> None:
        await self._ask("profile_picture", {"file": await self._file(file)})
