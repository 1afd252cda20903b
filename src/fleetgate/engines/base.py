"""The engine interface: what the runner needs from a messenger connection.

An *engine* makes *sessions*, one per live instance. The runner owns sessions: it starts them,
stops them, and forwards calls to them. A session reports what happens through the
:class:`SessionEvents` it was given. Every engine must pass the contract tests in
``tests/engines/contract.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from fleetgate.domain.chats import CallStatus
from fleetgate.domain.files import StoredFile
from fleetgate.domain.groups import GroupEvent
from fleetgate.domain.instances import State
from fleetgate.domain.messages import MessageStatus
from fleetgate.settings import Settings
from fleetgate.storage.blobs import BlobStore
from fleetgate.storage.db import Database
from fleetgate.storage.signals import Signals

# What an engine's EngineError says when asked to pair an account that is linked already.
ALREADY_AUTHORIZED = "instance account already authorized"
# What a call answers when the instance's engine does not implement it (runner/calls.py).
NOT_SUPPORTED = "this method is not supported by the instance's engine"


class EngineError(Exception):
    """A session could not do what was asked; the text is shown to the API caller."""


class NotInGroup(EngineError):
    """A message to a group we are not (or no longer) a member of: its status is notInGroup."""


@dataclass(frozen=True, slots=True)
class SessionSpec:
    """What a session needs to know about its instance."""

    id_instance: int
    # Credentials the session saved earlier through SessionEvents.auth_changed, or None.
    auth: dict[str, Any] | None


@dataclass(frozen=True, slots=True)
class QrCode:
    """The pairing QR a phone should scan now; ``payload`` is the text the QR encodes."""

    payload: str
    expires_ms: int


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message to send. ``message_data`` is the GREEN-API ``messageData`` object that
    describes it (``typeMessage`` plus its data), the common currency of every engine."""

    id_message: str
    chat_id: str
    message_data: dict[str, Any]
    # The file a file message carries, in the media store (``file.key`` is its object's key).
    file: StoredFile | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A message that arrived for the instance, or (``from_me``) one the account's own phone
    sent: journaled as outgoing, notified as outgoingMessageReceived."""

    id_message: str
    chat_id: str
    sender: str
    sender_name: str
    message_data: dict[str, Any]
    from_me: bool = False
    # When the messenger says it was sent (epoch ms); None: when it reached us.
    at_ms: int | None = None
    # A file message's file, put in the media store by the engine (``file.key``: its object).
    file: StoredFile | None = None
    # The chat's name when it is not the sender's (a group's subject).
    chat_name: str = ""


@dataclass(frozen=True, slots=True)
class CallEvent:
    """A call placed to the account (or, ``from_me``, by its own phone) changed status:
    ringing (offer), then how it ended. ``id_call`` is the same for every status of a call."""

    id_call: str
    chat_id: str
    status: CallStatus
    is_video: bool = False
    from_me: bool = False


@dataclass(frozen=True, slots=True)
class EngineHost:
    """What the process lends an engine: the database, its wake-up signals, and the settings
    (an engine reads its own section of the environment, and the data dir, from them)."""

    db: Database
    signals: Signals
    settings: Settings
    # The media store: engines read the files they send from it, and put received ones in it.
    blobs: BlobStore


class SessionEvents(Protocol):
    """How a session reports back; each call is durable once it returns."""

    async def state_changed(self, state: State, *, wid: str) -> None:
        """The connection state changed (``wid`` is ``<phone>@c.us`` or "")."""

    async def auth_changed(self, auth: dict[str, Any] | None) -> None:
        """New credentials to keep across restarts (None: forget them)."""

    async def message_received(self, message: IncomingMessage) -> None:
        """A message arrived (delivered at least once: the same id may come again)."""

    async def receipt(self, *, id_message: str, chat_id: str, status: MessageStatus) -> None:
        """An outgoing message was delivered or read (or failed) on the other side."""

    async def presence(self, *, chat_id: str, status: str, last_seen_ms: int | None) -> None:
        """A contact's presence in a chat changed (online, typing, recording, ...)."""

    async def call(self, call: CallEvent) -> None:
        """A call changed status (delivered at least once)."""

    async def blocked(self, *, chat_id: str) -> None:
        """A contact blocked the account."""

    async def group_changed(self, event: GroupEvent) -> None:
        """A group the account is (or was just) in changed: members, admins, settings."""


class Session(Protocol):
    """One instance's live connection."""

    async def start(self) -> None:
        """Connect; report the resulting state (authorized, or notAuthorized) before returning."""

    async def stop(self) -> None:
        """Disconnect, keeping credentials; the instance can be started again later."""

    async def logout(self) -> None:
        """Unlink the device and forget credentials; the state becomes notAuthorized."""

    async def qr(self) -> QrCode:
        """The current pairing QR (raises EngineError when authorized or not connected)."""

    async def pairing_code(self, phone: str) -> str:
        """A code the phone ``phone`` can type instead of scanning the QR."""

    async def send(self, message: OutgoingMessage) -> str | None:
        """Send a message; raises EngineError if it cannot. Returns the messenger's own id for
        it when it could not be sent under ``id_message`` (receipts may then name either), or
        None. Idempotent by ``id_message`` where the messenger lets an id be chosen."""

    async def read_chat(self, chat_id: str, id_messages: list[str]) -> None:
        """Tell the senders of these incoming messages that they were read."""

    async def exists(self, phone: str) -> bool:
        """Whether ``phone`` has an account on the messenger."""

    async def poke(self) -> None:
        """Something may have changed for this session outside it; look again."""


class GroupSession(Protocol):
    """Group chats: optional methods (runner/calls.py answers NOT_SUPPORTED without them).

    Groups and participants are chat ids (``…@g.us``, ``…@c.us``). A change answers "" when
    done, or why not (not an admin, not a member, no such group, ...): a refusal is an answer,
    not an error. An EngineError is kept for what the session cannot do at all.
    """

    async def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        """A new group we own with these members: ``{"chatId", "groupInviteLink"}``."""

    async def group_data(self, group_id: str) -> dict[str, Any] | None:
        """getGroupData's answer for the group, or None if there is no such group."""

    async def update_group_name(self, group_id: str, name: str) -> str:
        """Rename the group."""

    async def add_group_participant(self, group_id: str, participant: str) -> str:
        """Add a member (we must be an admin)."""

    async def remove_group_participant(self, group_id: str, participant: str) -> str:
        """Remove a member (we must be an admin)."""

    async def set_group_admin(self, group_id: str, participant: str) -> str:
        """Make a member an admin."""

    async def remove_group_admin(self, group_id: str, participant: str) -> str:
        """Take a member's admin rights."""

    async def leave_group(self, group_id: str) -> str:
        """Leave the group."""

    async def set_group_picture(self, group_id: str, picture: StoredFile) -> str:
        """Set the group's picture (a file in the media store)."""

    async def update_group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        """Whether members who are not admins may edit the group and send to it."""


class GroupAdminSession(Protocol):
    """Optional group methods beyond GREEN-API's (Z-API's group routes need them); refusals
    answer as GroupSession's do: "" when done, else why not."""

    async def group_metadata(self, group_id: str) -> dict[str, Any] | None:
        """group_data's answer plus ``description``, ``descriptionTime``,
        ``allowParticipantsAddMembers``, ``requireAdminApproval``; None: no such group."""

    async def joined_groups(self) -> list[dict[str, Any]]:
        """group_metadata of every group the account is a member of."""

    async def update_group_description(self, group_id: str, description: str) -> str:
        """Set the group's description (admins only)."""

    async def update_group_policy(
        self, group_id: str, *, members_add: bool | None, approval: bool | None
    ) -> str:
        """Whether members who are not admins may add others; whether joining by link waits
        for an admin's approval."""

    async def reset_group_invite(self, group_id: str) -> dict[str, str]:
        """A new invite link (the old one stops working): ``{"link", "reason"}``."""

    async def group_invite_info(self, link: str) -> dict[str, Any] | None:
        """The group an invite link leads to (as group_metadata, with its link), or None."""

    async def join_group(self, link: str) -> dict[str, str]:
        """Join by invite link: ``{"groupId", "state": "joined"|"pending", "reason"}``."""

    async def decide_group_request(self, group_id: str, participant: str, *, approve: bool) -> str:
        """Approve or reject a number's request to join (admins only)."""


class ChatMarkSession(Protocol):
    """Optional chat methods for marks kept on the account's devices and for blocking."""

    async def modify_chat(self, chat_id: str, *, action: str) -> None:
        """pin, unpin, mute, unmute, clear, delete, read or unread the chat."""

    async def block_contact(self, chat_id: str, *, blocked: bool) -> None:
        """Block (or unblock) a contact: it can no longer write to the account."""


class ChatSession(Protocol):
    """Optional session methods for chats and sent messages (runner/calls.py answers
    NOT_SUPPORTED for an engine without them). Edits and deletions of messages, reactions and
    poll votes arrive through ``SessionEvents.message_received`` as messages of their own
    (typeMessage editedMessage, deletedMessage, reactionMessage, pollUpdateMessage)."""

    async def delete_message(self, chat_id: str, id_message: str, *, for_everyone: bool) -> None:
        """Delete a message of the chat (for everyone, or only on the account's devices)."""

    async def edit_message(self, chat_id: str, id_message: str, *, id_edit: str, text: str) -> None:
        """Replace the text of a message the account sent; ``id_edit`` names the edit."""

    async def send_typing(self, chat_id: str, *, recording: bool, duration_ms: int) -> None:
        """Show the chat that the account is typing (or recording) for a while."""

    async def archive_chat(self, chat_id: str, *, archived: bool) -> None:
        """Archive or unarchive a chat on the account's devices."""

    async def set_disappearing(self, chat_id: str, *, expiration_s: int) -> None:
        """Set the chat's disappearing-messages timer (0: off)."""


@dataclass(frozen=True, slots=True)
class OutgoingStatus:
    """A status to post. ``message_data`` describes it as a message's would; ``media`` is an
    opaque reference the caller keeps with it (to its file, for fresh links later)."""

    id_message: str
    message_data: dict[str, Any]
    # Who may see it ("<phone>@c.us"); empty: every contact.
    participants: list[str]
    file: StoredFile | None = None
    media: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StatusRecord:
    """A status as the messenger keeps it: posted by ``sender`` ("<phone>@c.us")."""

    id_message: str
    sender: str
    at_ms: int
    message_data: dict[str, Any]
    participants: list[str]
    media: dict[str, Any] | None


class StatusSession(Protocol):
    """Optional session methods for statuses (runner/calls.py finds them with ``optional``;
    an engine without them answers NOT_SUPPORTED)."""

    async def send_status(self, status: OutgoingStatus) -> None:
        """Post a status to the account's contacts (or to ``participants`` only)."""

    async def delete_status(self, id_message: str) -> bool:
        """Delete an own status; False if there is no such status."""

    async def status_statistic(self, id_message: str) -> list[tuple[str, int, str]] | None:
        """Who an own status went to: (chat id, epoch ms, sent|delivered|read); None if there
        is no such status."""

    async def statuses(self, *, incoming: bool, since_ms: int) -> list[StatusRecord]:
        """Statuses posted since ``since_ms``, newest first: the contacts' (incoming) or own."""


class ProfileSession(Protocol):
    """Optional session method for the account's own profile."""

    async def set_profile_picture(self, file: StoredFile) -> None:
        """Make this image the account's profile picture."""


class Engine(Protocol):
    """A kind of messenger connection, registered under the entry point group fleetgate.engines."""

    name: str

    def open_session(self, spec: SessionSpec, events: SessionEvents) -> Session:
        """A new, not yet started session for one instance."""

    async def sweep(self) -> None:
        """Catch up on changes whose wake-up was lost; the runner calls this every full pass."""


class EngineFactory(Protocol):
    """What an entry point of group ``fleetgate.engines`` names: builds the engine once."""

    def __call__(self, host: EngineHost) -> Engine: ...
