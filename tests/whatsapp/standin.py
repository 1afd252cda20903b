"""A stand-in for WhatsApp behind the worker's Client interface, for tests.

The worker processes load it with ``--client tests.whatsapp.standin:factory``, so the tests
run the real path: engine -> supervisor -> worker subprocess -> this client. Its "servers"
are a SQLite file in the folder named by ``FLEETGATE_WHATSAPP_STANDIN``, shared by every
worker and by the test itself, which plays the phones through :class:`Network`: scan a QR
an instance shows, type a pairing code, remove a device, send a message to an account, ban
it, take the network offline.

A device's keys live in its store, as with the real library: a SQLite file at the store
DSN, or, for a ``postgres://`` DSN, a file in the network folder named after it (one store
for every device, as the real schema is).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
import sqlite3
import string
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson

from fleetgate_whatsapp.client import (
    Client,
    ClientError,
    ClientEvents,
    FileToSend,
    Received,
    Store,
)
from tests.whatsapp import standin_groups as groups

log = logging.getLogger(__name__)

ENV_DIR = "FLEETGATE_WHATSAPP_STANDIN"
# How long each QR code lives, and how many codes one login window shows (0: no end).
ENV_QR_MS = "FLEETGATE_WHATSAPP_STANDIN_QR_MS"
ENV_QR_ROUNDS = "FLEETGATE_WHATSAPP_STANDIN_QR_ROUNDS"
# The worker process leaves with status 75 (asks to be replaced) at this connect attempt of
# the network, as a worker that recycles itself does.
ENV_RECYCLE_AT = "FLEETGATE_WHATSAPP_STANDIN_RECYCLE_AT"
POLL_S = 0.02

_SCHEMA = """
CREATE TABLE IF NOT EXISTS offers (
    key TEXT PRIMARY KEY, qr TEXT NOT NULL, qr_expires_ms INTEGER NOT NULL,
    code TEXT, scanned_by TEXT);
CREATE TABLE IF NOT EXISTS devices (
    jid TEXT PRIMARY KEY, phone TEXT NOT NULL, revoked INTEGER NOT NULL DEFAULT 0,
    banned_s INTEGER NOT NULL DEFAULT 0, connection TEXT);
CREATE TABLE IF NOT EXISTS inbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, to_phone TEXT NOT NULL, from_phone TEXT NOT NULL,
    kind TEXT NOT NULL, body TEXT NOT NULL, at_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS flags (name TEXT PRIMARY KEY);
CREATE TABLE IF NOT EXISTS held (id INTEGER PRIMARY KEY AUTOINCREMENT, chat_id TEXT);
CREATE TABLE IF NOT EXISTS groups (
    group_id TEXT PRIMARY KEY, subject TEXT NOT NULL, owner TEXT NOT NULL,
    created_s INTEGER NOT NULL, subject_s INTEGER NOT NULL, subject_by TEXT NOT NULL,
    invite TEXT NOT NULL, locked INTEGER NOT NULL DEFAULT 0, announce INTEGER NOT NULL DEFAULT 0,
    picture TEXT, description TEXT NOT NULL DEFAULT '');
CREATE TABLE IF NOT EXISTS members (
    group_id TEXT NOT NULL, phone TEXT NOT NULL, admin INTEGER NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (group_id, phone));
CREATE TABLE IF NOT EXISTS timers (
    phone TEXT NOT NULL, chat_id TEXT NOT NULL, expiration_s INTEGER NOT NULL,
    PRIMARY KEY (phone, chat_id));
CREATE TABLE IF NOT EXISTS pictures (phone TEXT PRIMARY KEY, sha256 TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS blocks (phone TEXT NOT NULL, chat_id TEXT NOT NULL,
    PRIMARY KEY (phone, chat_id));
"""


def _now_ms() -> int:
    return int(time.time() * 1000)


@contextmanager
def _connect(path: Path | str) -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(path, timeout=30, isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


class Network:
    """The stand-in's servers and the phones around them (one SQLite file)."""

    def __init__(self, folder: Path | str) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "network.db"
        with self.db() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(_SCHEMA)

    def db(self) -> Any:
        return _connect(self.path)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One connection whose statements commit together (or not at all)."""
        with self.db() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # What a phone does.

    def scan(self, payload: str, phone: str) -> bool:
        """The phone scans a QR; False if no device shows it (any more)."""
        with self.db() as conn:
            done = conn.execute(
                "UPDATE offers SET scanned_by = ? WHERE qr = ? AND qr_expires_ms > ?"
                " AND scanned_by IS NULL",
                (phone, payload, _now_ms()),
            )
            return done.rowcount == 1

    def enter_code(self, phone: str, code: str) -> bool:
        """The phone types a pairing code that a device asked for on its behalf."""
        with self.db() as conn:
            done = conn.execute(
                "UPDATE offers SET scanned_by = ? WHERE code = ? AND scanned_by IS NULL",
                (phone, code),
            )
            return done.rowcount == 1

    def remove_devices(self, phone: str) -> int:
        """The phone unlinks every device linked to it."""
        with self.db() as conn:
            return conn.execute("UPDATE devices SET revoked = 1 WHERE phone = ?", (phone,)).rowcount

    def ban(self, phone: str, expire_s: int) -> None:
        with self.db() as conn:
            conn.execute("UPDATE devices SET banned_s = ? WHERE phone = ?", (expire_s, phone))

    def send(self, from_phone: str, to_phone: str, text: str) -> str:
        """The phone ``from_phone`` sends a text to the account ``to_phone``; its id."""
        data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}
        return self.post(from_phone, to_phone, data, sender_name=f"phone {from_phone}")

    def send_file(
        self, from_phone: str, to_phone: str, data: dict[str, Any], content: bytes | None
    ) -> str:
        """The phone sends a file message (``data``: its messageData) with the file's bytes;
        None: a file the account's device cannot download (expired on the servers)."""
        id_message = "3EB0" + secrets.token_hex(8).upper()
        file = base64.b64encode(content).decode() if content is not None else None
        body = {"id": id_message, "message_data": data, "sender_name": f"phone {from_phone}"}
        self._insert(to_phone, from_phone, "message", body | {"file": file})
        return id_message

    def send_from_own_phone(self, account: str, to_phone: str, text: str) -> str:
        """The account's phone itself writes to ``to_phone``: its linked devices see the
        message as their own; its id."""
        id_message = "3EB0" + secrets.token_hex(8).upper()
        data = {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}
        body = {"id": id_message, "message_data": data, "sender_name": account, "chat": to_phone}
        self._insert(account, account, "message", body)
        self._insert(to_phone, account, "message", body)
        return id_message

    def presence(self, from_phone: str, to_phone: str, status: str) -> None:
        """The phone ``from_phone`` shows ``status`` (COMPOSING, UNAVAILABLE, ...) to an account."""
        self._insert(to_phone, from_phone, "presence", {"status": status})

    def messages_to(self, phone: str) -> list[dict[str, Any]]:
        """The messages the account ``phone`` was sent, oldest first."""
        with self.db() as conn:
            rows = conn.execute(
                "SELECT from_phone, body FROM inbox WHERE to_phone = ? AND kind = 'message'"
                " ORDER BY seq",
                (phone,),
            ).fetchall()
        return [{"from": sender, **orjson.loads(body)} for sender, body in rows]

    def set_flag(self, name: str, on: bool) -> None:
        """``offline``: connecting fails; ``hold``: sends wait until it is cleared."""
        with self.db() as conn:
            if on:
                conn.execute("INSERT OR IGNORE INTO flags VALUES (?)", (name,))
            else:
                conn.execute("DELETE FROM flags WHERE name = ?", (name,))

    def members(self, group_id: str) -> list[tuple[str, bool]]:
        """The members of a group (phone, admin), longest first."""
        with self.db() as conn:
            rows = conn.execute(
                "SELECT phone, admin FROM members WHERE group_id = ? ORDER BY seq", (group_id,)
            ).fetchall()
        return [(phone, bool(admin)) for phone, admin in rows]

    def group(self, group_id: str) -> dict[str, Any] | None:
        """A group's row (subject, owner, locked, announce, picture, ...), or None."""
        with self.db() as conn:
            conn.row_factory = sqlite3.Row
            row = conn.execute("SELECT * FROM groups WHERE group_id = ?", (group_id,)).fetchone()
        return None if row is None else dict(row)

    def timer(self, phone: str, chat_id: str) -> int | None:
        """The disappearing-messages timer the account ``phone`` set for a chat."""
        with self.db() as conn:
            row = conn.execute(
                "SELECT expiration_s FROM timers WHERE phone = ? AND chat_id = ?", (phone, chat_id)
            ).fetchone()
        return None if row is None else int(row[0])

    def picture(self, phone: str) -> str | None:
        """The SHA-256 of the account's profile picture."""
        with self.db() as conn:
            row = conn.execute("SELECT sha256 FROM pictures WHERE phone = ?", (phone,)).fetchone()
        return None if row is None else str(row[0])

    def presences_to(self, phone: str) -> list[tuple[str, str]]:
        """The presences (from, status) shown to ``phone``, oldest first."""
        with self.db() as conn:
            rows = conn.execute(
                "SELECT from_phone, body FROM inbox WHERE to_phone = ? AND kind = 'presence'"
                " ORDER BY seq",
                (phone,),
            ).fetchall()
        return [(sender, orjson.loads(body)["status"]) for sender, body in rows]

    def held(self) -> int:
        """Sends waiting on the ``hold`` flag now."""
        with self.db() as conn:
            return int(conn.execute("SELECT count(*) FROM held").fetchone()[0])

    # What the servers do.

    def flag(self, name: str) -> bool:
        with self.db() as conn:
            return (
                conn.execute("SELECT 1 FROM flags WHERE name = ?", (name,)).fetchone() is not None
            )

    def post(
        self,
        from_phone: str,
        to_phone: str,
        data: dict[str, Any],
        sender_name: str,
        file: FileToSend | None = None,
    ) -> str:
        id_message = "3EB0" + secrets.token_hex(8).upper()
        body = {"id": id_message, "message_data": data, "sender_name": sender_name}
        if file is not None:
            # What the recipient downloads, and what the test checks the sender uploaded.
            body["file"] = base64.b64encode(file.content).decode()
            body["file_mime_type"] = file.mime_type
        self._insert(to_phone, from_phone, "message", body)
        return id_message

    def post_receipt(self, from_phone: str, to_phone: str, ids: list[str], status: str) -> None:
        self._insert(to_phone, from_phone, "receipt", {"ids": ids, "status": status})

    def _insert(self, to_phone: str, from_phone: str, kind: str, body: dict[str, Any]) -> None:
        with self.db() as conn:
            conn.execute(
                "INSERT INTO inbox (to_phone, from_phone, kind, body, at_ms)"
                " VALUES (?, ?, ?, ?, ?)",
                (to_phone, from_phone, kind, orjson.dumps(body).decode(), _now_ms()),
            )

    def next_number(self, name: str) -> int:
        with self.db() as conn:
            conn.execute(
                "INSERT INTO counters VALUES (?, 1)"
                " ON CONFLICT (name) DO UPDATE SET value = value + 1",
                (name,),
            )
            return int(
                conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()[0]
            )

    def count(self, name: str) -> int:
        """How often ``name`` was counted (``connects``: connection attempts)."""
        with self.db() as conn:
            found = conn.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(found[0]) if found else 0

    def last_seq(self) -> int:
        with self.db() as conn:
            return int(conn.execute("SELECT coalesce(max(seq), 0) FROM inbox").fetchone()[0])


class StandinFactory:
    """The ClientFactory of the stand-in."""

    def __init__(self, network: Network) -> None:
        self.network = network

    def store_path(self, store: Store) -> Path:
        if store.dsn.startswith("postgres"):
            digest = hashlib.sha256(store.dsn.encode()).hexdigest()[:16]
            return self.network.folder / f"store-{digest}.db"
        return Path(store.dsn)

    def migrate(self, store: Store) -> None:
        with _connect(self.store_path(store)) as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS device"
                " (jid TEXT PRIMARY KEY, phone TEXT NOT NULL, cursor INTEGER NOT NULL)"
            )

    def has_device(self, store: Store, jid: str) -> bool:
        with _connect(self.store_path(store)) as conn:
            found = conn.execute("SELECT 1 FROM device WHERE jid = ?", (jid,)).fetchone()
        return found is not None

    def client(self, store: Store, jid: str | None, events: ClientEvents) -> Client:
        return StandinClient(self.network, self.store_path(store), jid, events)


class StandinClient:
    """One device on the stand-in network."""

    def __init__(
        self, network: Network, store: Path, jid: str | None, events: ClientEvents
    ) -> None:
        self.network = network
        self.store = store
        self.jid = jid
        self.events = events
        self._stopped = threading.Event()
        self._key = secrets.token_hex(8)
        self.qr_ms = int(os.environ.get(ENV_QR_MS, "60000"))
        self.qr_rounds = int(os.environ.get(ENV_QR_ROUNDS, "0"))

    @property
    def phone(self) -> str:
        assert self.jid is not None
        return self.jid.split(":", 1)[0]

    def connect(self) -> None:
        if self._stopped.is_set():
            return
        attempt = self.network.next_number("connects")
        if attempt == int(os.environ.get(ENV_RECYCLE_AT, "0")):
            os._exit(75)
        if self.network.flag("offline"):
            raise ClientError("dial tcp: lookup web.whatsapp.com: no such host (stand-in)")
        if self.jid is None and not self._pair():
            self._stopped.wait()
            return
        self._online()

    def _pair(self) -> bool:
        """Show QR codes until a phone scans one (True) or the window ends."""
        rounds, expires = 0, 0
        try:
            while not self._stopped.is_set():
                if _now_ms() >= expires:
                    if self.qr_rounds and rounds >= self.qr_rounds:
                        self.events.qr_expired()
                        return False
                    rounds += 1
                    code = f"standin@{self._key},{secrets.token_hex(6)}"
                    expires = _now_ms() + self.qr_ms
                    with self.network.db() as conn:
                        conn.execute(
                            "INSERT INTO offers (key, qr, qr_expires_ms) VALUES (?, ?, ?)"
                            " ON CONFLICT (key) DO UPDATE SET qr = excluded.qr,"
                            " qr_expires_ms = excluded.qr_expires_ms",
                            (self._key, code, expires),
                        )
                    self.events.qr(code, expires)
                with self.network.db() as conn:
                    row = conn.execute(
                        "SELECT scanned_by FROM offers WHERE key = ?", (self._key,)
                    ).fetchone()
                if row is not None and row[0] is not None:
                    self._link(str(row[0]))
                    return True
                self._stopped.wait(POLL_S)
            return False
        finally:
            with self.network.db() as conn:
                conn.execute("DELETE FROM offers WHERE key = ?", (self._key,))

    def _link(self, phone: str) -> None:
        jid = f"{phone}:{self.network.next_number(phone)}@s.whatsapp.net"
        cursor = self.network.last_seq()  # a new device sees what is sent from now on
        with self.network.db() as conn:
            conn.execute("INSERT INTO devices (jid, phone) VALUES (?, ?)", (jid, phone))
        with _connect(self.store) as conn:
            conn.execute("INSERT INTO device VALUES (?, ?, ?)", (jid, phone, cursor))
        self.jid = jid
        self.events.paired(jid)

    def _online(self) -> None:
        jid, connection = self.jid, secrets.token_hex(8)
        with self.network.db() as conn:
            conn.execute("UPDATE devices SET connection = ? WHERE jid = ?", (connection, jid))
        assert jid is not None
        self.events.connected(jid)
        while not self._stopped.wait(POLL_S):
            with self.network.db() as conn:
                row = conn.execute(
                    "SELECT revoked, banned_s, connection FROM devices WHERE jid = ?", (jid,)
                ).fetchone()
            if row is None or row[0]:
                self._forget()
                self.events.logged_out("the phone removed this device")
                break
            if row[1]:
                log.warning("stand-in: %s is banned", jid)  # reaches the engine's log
                self.events.banned("the stand-in network banned this account", int(row[1]))
                break
            if row[2] != connection:
                self.events.replaced()
                break
            self._take_in()
        self._stopped.wait()

    def _take_in(self) -> None:
        with _connect(self.store) as conn:
            found = conn.execute("SELECT cursor FROM device WHERE jid = ?", (self.jid,)).fetchone()
        if found is None:
            return
        with self.network.db() as conn:
            rows = conn.execute(
                "SELECT seq, from_phone, kind, body, at_ms FROM inbox"
                " WHERE to_phone = ? AND seq > ? ORDER BY seq LIMIT 100",
                (self.phone, found[0]),
            ).fetchall()
        for seq, from_phone, kind, raw, at_ms in rows:
            body, chat_id = orjson.loads(raw), f"{from_phone}@c.us"
            if from_phone == self.phone:
                if kind == "message" and "chat" in body:  # typed on the account's own phone
                    own = f"{self.phone}@c.us"
                    self.events.message(
                        Received(
                            id_message=body["id"],
                            chat_id=f"{body['chat']}@c.us",
                            sender=own,
                            sender_name=body["sender_name"],
                            timestamp_s=at_ms // 1000,
                            from_me=True,
                            message_data=body["message_data"],
                        )
                    )
            elif kind == "message":
                # A change the account's contact made in a group names the group.
                chat_id = body.get("group") or chat_id
                file = None
                if "file" in body and body["file"] is None:
                    log.warning("stand-in: the file of %s could not be downloaded", body["id"])
                elif "file" in body:
                    file = base64.b64decode(body["file"])
                self.events.message(
                    Received(
                        id_message=body["id"],
                        chat_id=chat_id,
                        sender=f"{from_phone}@c.us",
                        sender_name=body["sender_name"],
                        timestamp_s=at_ms // 1000,
                        from_me=False,
                        message_data=_as_received(body["message_data"]),
                        file=file,
                    )
                )
                self.network.post_receipt(self.phone, from_phone, [body["id"]], "delivered")
            elif kind == "presence":
                last_seen = at_ms if body["status"] == "UNAVAILABLE" else None
                self.events.presence(chat_id=chat_id, status=body["status"], last_seen_ms=last_seen)
            else:
                self.events.receipt(chat_id=chat_id, id_messages=body["ids"], status=body["status"])
            with _connect(self.store) as conn:
                conn.execute("UPDATE device SET cursor = ? WHERE jid = ?", (seq, self.jid))

    def _forget(self) -> None:
        with _connect(self.store) as conn:
            conn.execute("DELETE FROM device WHERE jid = ?", (self.jid,))
        with self.network.db() as conn:
            conn.execute("DELETE FROM devices WHERE jid = ?", (self.jid,))

    def stop(self) -> None:
        self._stopped.set()

    def logout(self) -> None:
        if self.jid is None:
            raise ClientError("the store doesn't contain a device JID")
        self._forget()
        self.stop()

    def pair_phone(self, phone: str) -> str:
        letters = string.ascii_uppercase
        code = "".join(secrets.choice(letters) for _ in range(8))
        with self.network.db() as conn:
            done = conn.execute(
                "UPDATE offers SET code = ? WHERE key = ?", (f"{code[:4]}-{code[4:]}", self._key)
            )
        if done.rowcount != 1:
            raise ClientError("no login window is open")
        return f"{code[:4]}-{code[4:]}"

    def send(
        self, chat_id: str, message_data: dict[str, Any], file: FileToSend | None = None
    ) -> str:
        if self.jid is None:
            raise ClientError("the store doesn't contain a device JID")
        to_phone = chat_id.removesuffix("@c.us")
        if not to_phone.isdigit():
            raise ClientError("the stand-in network carries no messages to groups")
        if self.network.flag("hold"):
            with self.network.db() as conn:
                conn.execute("INSERT INTO held (chat_id) VALUES (?)", (chat_id,))
            while self.network.flag("hold") and not self._stopped.wait(POLL_S):
                pass
        return self.network.post(
            self.phone, to_phone, message_data, sender_name=self.phone, file=file
        )

    def mark_read(self, chat_id: str, sender: str, id_messages: list[str]) -> None:
        self.network.post_receipt(self.phone, sender.removesuffix("@c.us"), id_messages, "read")

    def exists(self, phone: str) -> bool:
        with self.network.db() as conn:
            found = conn.execute("SELECT 1 FROM devices WHERE phone = ?", (phone,)).fetchone()
        return found is not None

    # Groups (standin_groups.py keeps WhatsApp's rules).

    def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        with self.network.transaction() as conn:
            group_id = groups.create(conn, self._me(), name, participants)
            return {"chatId": group_id, "groupInviteLink": groups.invite_link(conn, group_id)}

    def group_data(self, group_id: str) -> dict[str, Any] | None:
        with self.network.transaction() as conn:
            return groups.data(conn, self._me(), group_id)

    def rename_group(self, group_id: str, name: str) -> str:
        with self.network.transaction() as conn:
            return groups.rename(conn, self._me(), group_id, name)

    def group_participant(self, group_id: str, participant: str, action: str) -> str:
        with self.network.transaction() as conn:
            return groups.change(conn, self._me(), group_id, participant, action)

    def leave_group(self, group_id: str) -> str:
        with self.network.transaction() as conn:
            return groups.leave(conn, self._me(), group_id)

    def group_picture(self, group_id: str, picture: FileToSend) -> str:
        with self.network.transaction() as conn:
            return groups.set_picture(conn, self._me(), group_id, picture.content)

    def group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        with self.network.transaction() as conn:
            return groups.settings(conn, self._me(), group_id, members_edit, members_send)

    def describe_group(self, group_id: str, description: str) -> str:
        with self.network.transaction() as conn:
            return groups.describe(conn, self._me(), group_id, description)

    def reset_invite(self, group_id: str) -> dict[str, str]:
        with self.network.transaction() as conn:
            return groups.reset_invite(conn, self._me(), group_id)

    def join_group(self, link: str) -> dict[str, str]:
        with self.network.transaction() as conn:
            return groups.join(conn, self._me(), link)

    # Chats and the account's own messages: what the other side's phones see.

    def revoke(self, chat_id: str, id_message: str) -> None:
        data = {"typeMessage": "deletedMessage", "deletedMessageData": {"stanzaId": id_message}}
        self._tell(chat_id, "message", {"message_data": data})

    def edit(self, chat_id: str, id_message: str, text: str) -> None:
        data = {
            "typeMessage": "editedMessage",
            "editedMessageData": {"textMessage": text, "stanzaId": id_message},
        }
        self._tell(chat_id, "message", {"message_data": data})

    def typing(self, chat_id: str, state: str) -> None:
        self._tell(chat_id, "presence", {"status": state.upper()})

    def disappearing(self, chat_id: str, expiration_s: int) -> None:
        self._recipients(chat_id)  # a chat id of no chat is refused
        with self.network.db() as conn:
            conn.execute(
                "INSERT INTO timers VALUES (?, ?, ?) ON CONFLICT (phone, chat_id)"
                " DO UPDATE SET expiration_s = excluded.expiration_s",
                (self._me(), chat_id, expiration_s),
            )

    def profile_picture(self, picture: FileToSend) -> None:
        digest = hashlib.sha256(picture.content).hexdigest()
        with self.network.db() as conn:
            conn.execute(
                "INSERT INTO pictures VALUES (?, ?) ON CONFLICT (phone)"
                " DO UPDATE SET sha256 = excluded.sha256",
                (self._me(), digest),
            )

    def block(self, chat_id: str, blocked: bool) -> None:
        groups.phone_of(chat_id)  # a person, not a group
        with self.network.db() as conn:
            if blocked:
                conn.execute("INSERT OR IGNORE INTO blocks VALUES (?, ?)", (self._me(), chat_id))
            else:
                conn.execute(
                    "DELETE FROM blocks WHERE phone = ? AND chat_id = ?", (self._me(), chat_id)
                )

    def _me(self) -> str:
        if self.jid is None:
            raise ClientError("the store doesn't contain a device JID")
        return self.phone

    def _recipients(self, chat_id: str) -> list[str]:
        """The phones a change in ``chat_id`` reaches: the person, or the group's others."""
        if chat_id.endswith("@g.us"):
            with self.network.db() as conn:
                return groups.others(conn, self._me(), chat_id)
        return [groups.phone_of(chat_id)]

    def _tell(self, chat_id: str, kind: str, body: dict[str, Any]) -> None:
        me = self._me()
        if kind == "message":
            body = body | {"id": "3EB0" + secrets.token_hex(8).upper(), "sender_name": me}
            if chat_id.endswith("@g.us"):
                body["group"] = chat_id
        for phone in self._recipients(chat_id):
            self.network._insert(phone, me, kind, body)


def _as_received(data: dict[str, Any]) -> dict[str, Any]:
    """A text sent as extendedTextMessage arrives as a plain textMessage, as on a phone."""
    if data.get("typeMessage") == "extendedTextMessage":
        text = data.get("extendedTextMessageData", {}).get("text", "")
        return {"typeMessage": "textMessage", "textMessageData": {"textMessage": text}}
    return data


def factory(options: object = None) -> StandinFactory:
    """What the worker's ``--client tests.whatsapp.standin:factory`` loads (a worker may pass
    its factory options; the stand-in needs none)."""
    return StandinFactory(Network(os.environ[ENV_DIR]))


def crashing(options: object = None) -> StandinFactory:
    """A worker whose library dies at start, as the Go layer does on a fatal error."""
    sys.stderr.write("fatal error: concurrent map writes (stand-in)\n")
    sys.stderr.flush()
    os._exit(2)
