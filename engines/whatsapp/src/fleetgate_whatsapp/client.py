"""The small client interface a worker drives: one WhatsApp device connection.

The worker never calls neonize directly; it calls a :class:`Client` made by a
:class:`ClientFactory`. ``neonize_client.py`` implements it over neonize (the only module that
imports the library); the tests put a stand-in behind the same interface. Everything a client
reports goes to its :class:`ClientEvents` in fleetgate's own terms (GREEN-API ``messageData``
dicts, JIDs as strings), never as protobuf objects.

Threads: ``connect`` blocks for the life of the connection, in a thread of its own. Every other
method may be called from any thread while it runs; the worker serialises calls into the
library as the library needs (see ``worker.py``). Event callbacks may come from any thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


class ClientError(Exception):
    """A call could not be done; the text is shown to the API caller."""


# What a chat may be shown (Client.typing).
TYPING_STATES = ("composing", "recording", "paused")


@dataclass(frozen=True, slots=True)
class Store:
    """Where a device's keys live: ``dsn`` is a SQLite file path or a ``postgres://`` DSN."""

    dsn: str


@dataclass(frozen=True, slots=True)
class Received:
    """A message that arrived (or that the account's own phone sent: ``from_me``)."""

    id_message: str
    chat_id: str  # <phone>@c.us or <id>@g.us
    sender: str  # <phone>@c.us
    sender_name: str
    timestamp_s: int
    from_me: bool
    message_data: dict[str, Any]  # GREEN-API messageData: typeMessage and its data
    # A media message's file, downloaded; None when it has none, or it could not be had
    # (too large, the download failed: the client logs why).
    file: bytes | None = None


@dataclass(frozen=True, slots=True)
class FileToSend:
    """The file of a file message: its bytes, from fleetgate's media store."""

    content: bytes
    mime_type: str  # told from the bytes by fleetgate
    file_name: str


class ClientEvents(Protocol):
    """How a client reports; called from any thread, must not block for long."""

    def qr(self, code: str, expires_ms: int) -> None:
        """A new pairing QR payload, valid until ``expires_ms`` (epoch ms)."""

    def qr_expired(self) -> None:
        """Every QR code of this login window expired unscanned (a new connect asks anew)."""

    def paired(self, jid: str) -> None:
        """A phone linked this device; ``jid`` is the device JID
        (``user:device@s.whatsapp.net``)."""

    def connected(self, jid: str) -> None:
        """Logged in and online as ``jid``."""

    def disconnected(self, reason: str) -> None:
        """The connection dropped (the network, a server close); the worker reconnects."""

    def logged_out(self, reason: str) -> None:
        """The phone unlinked this device; its store rows are gone."""

    def banned(self, reason: str, expire_s: int) -> None:
        """WhatsApp banned the account for a while (``expire_s`` seconds)."""

    def replaced(self) -> None:
        """Another connection of the same device took over; do not reconnect."""

    def message(self, message: Received) -> None:
        """A message arrived."""

    def receipt(self, *, chat_id: str, id_messages: list[str], status: str) -> None:
        """Messages this device sent were ``delivered`` or ``read`` (a MessageStatus value; a
        voice note played counts as read)."""

    def presence(self, *, chat_id: str, status: str, last_seen_ms: int | None) -> None:
        """A contact's presence, in the words presence notifications use (``AVAILABLE``,
        ``UNAVAILABLE``, ``COMPOSING``, ``RECORDING``, ``PAUSED``: translate.presence)."""


class Client(Protocol):
    """One device connection, made by a ClientFactory for one instance."""

    def connect(self) -> None:
        """Connect and serve events until :meth:`stop` (blocks); raises ClientError when the
        connection cannot be made (no network, refused)."""

    def stop(self) -> None:
        """End the connection for good: a running :meth:`connect` returns, and a later one
        returns at once (the worker stops a client only when its session is over). Safe at
        any time, twice too."""

    def logout(self) -> None:
        """Unlink the device from the phone and delete its keys from the store."""

    def pair_phone(self, phone: str) -> str:
        """A pairing code (``ABCD-EFGH``) the phone ``phone`` can type instead of the QR."""

    def send(
        self, chat_id: str, message_data: dict[str, Any], file: FileToSend | None = None
    ) -> str:
        """Send a message described by a GREEN-API ``messageData`` (and, for a file message,
        its ``file``, which the client uploads); returns WhatsApp's id."""

    def mark_read(self, chat_id: str, sender: str, id_messages: list[str]) -> None:
        """Send read receipts for incoming messages of ``sender`` in ``chat_id``."""

    def exists(self, phone: str) -> bool:
        """Whether ``phone`` (digits, international) has a WhatsApp account."""

    # Groups: a change returns "" when done, or why WhatsApp refused it (the words of
    # groups.py); ClientError is for what could not be asked (not connected, a bad id).

    def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        """A new group the account owns, with these members: ``{chatId, groupInviteLink}``."""

    def group_data(self, group_id: str) -> dict[str, Any] | None:
        """getGroupData's answer (groups.group_data), or None if there is no such group;
        ClientError(groups.NOT_MEMBER) when WhatsApp shows it to members only."""

    def rename_group(self, group_id: str, name: str) -> str:
        """Set the group's subject."""

    def group_participant(self, group_id: str, participant: str, action: str) -> str:
        """Add, remove, promote or demote (``action``) one member."""

    def leave_group(self, group_id: str) -> str:
        """Leave the group."""

    def group_picture(self, group_id: str, picture: FileToSend) -> str:
        """Set the group's picture (a JPEG)."""

    def group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        """Whether members who are not admins may edit the group (not locked) and send to it
        (not announcement-only); None leaves a setting as it is."""

    def describe_group(self, group_id: str, description: str) -> str:
        """Set the group's description ("" clears it)."""

    def reset_invite(self, group_id: str) -> dict[str, str]:
        """A new invite link, the old one revoked: ``{link, reason}`` (link "" when refused)."""

    def join_group(self, link: str) -> dict[str, str]:
        """Join by invite link: ``{groupId, state: joined | pending, reason}`` (pending: an
        admin approves first; reason, with groupId and state "", when refused)."""

    # Chats and the account's own messages.

    def revoke(self, chat_id: str, id_message: str) -> None:
        """Delete the account's message ``id_message`` (WhatsApp's id) for everyone."""

    def edit(self, chat_id: str, id_message: str, text: str) -> None:
        """Replace the text of the account's message ``id_message`` (WhatsApp's id)."""

    def typing(self, chat_id: str, state: str) -> None:
        """Show the chat ``composing``, ``recording``, or ``paused`` (neither any more)."""

    def disappearing(self, chat_id: str, expiration_s: int) -> None:
        """Set the chat's disappearing-messages timer (0: off)."""

    def profile_picture(self, picture: FileToSend) -> None:
        """Make the image (a JPEG) the account's profile picture."""

    def block(self, chat_id: str, blocked: bool) -> None:
        """Block (or unblock) a person: a blocked one can no longer write to the account."""


class ClientFactory(Protocol):
    """Makes clients and looks after their store (one per worker process)."""

    def migrate(self, store: Store) -> None:
        """Create or upgrade the store's tables (before any client of it connects)."""

    def has_device(self, store: Store, jid: str) -> bool:
        """Whether the store still holds the device ``jid`` (connecting to a missing one would
        end the process)."""

    def client(self, store: Store, jid: str | None, events: ClientEvents) -> Client:
        """A new, unconnected client: of device ``jid``, or a new device to pair when None."""


@dataclass(frozen=True, slots=True)
class FactoryOptions:
    """What a worker tells the factory it makes (from the worker's command line)."""

    log_level: int = 20  # logging.INFO; the library's own log level follows it
    # The largest file a message carries (fleetgate's media.max_file_bytes): a received file
    # announced larger is not downloaded.
    media_max_bytes: int = 100 * 1024 * 1024


# ``--client MODULE:NAME`` names a ClientFactory, or a callable that makes one from the options.
MakeFactory = Callable[[FactoryOptions], ClientFactory]
