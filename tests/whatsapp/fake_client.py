"""A stand-in ClientFactory for the worker tests, loaded inside the worker process.

``python -m fleetgate_whatsapp.worker --client tests.whatsapp.fake_client:FakeFactory``

What a client does is chosen by its store's name (the part before any ``/``, the rest only
tells sessions apart): ``ok`` connects and reports ``connected``; ``qr`` shows a QR code;
``fail`` never connects (ClientError every time); ``logout`` connects and is logged out by
the phone; ``media`` connects and receives an image of as many bytes as the store's second
part says (``media/1000``: 1000 bytes, made by :func:`file_of`); ``hang`` shows a QR code and
never returns from connect, stop or not (as the library does once a login window ends
unpaired). A store named ``broken`` cannot be migrated; a device whose JID starts with
``stale`` is not in any store.

The stand-in tells the test what it was asked through log records (``fake: ...``), which the
worker sends to the engine as ``log`` events.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from typing import Any

from fleetgate_whatsapp.client import (
    ClientError,
    ClientEvents,
    FactoryOptions,
    FileToSend,
    Received,
    Store,
)
from fleetgate_whatsapp.groups import INVITE_PREFIX, JOINED, NO_GROUP, NO_INVITE, NOT_ADMIN

log = logging.getLogger("fake")
INVITE = INVITE_PREFIX + "FakeInviteCode"
DEVICE = "15550001:3@s.whatsapp.net"


def file_of(size: int) -> bytes:
    """A JPEG-looking file of ``size`` bytes, different in every part."""
    head = b"\xff\xd8\xff\xe0"
    body = hashlib.shake_256(b"fleetgate").digest(max(0, size - len(head)))
    return (head + body)[:size]


class FakeClient:
    def __init__(self, store: Store, jid: str | None, events: ClientEvents) -> None:
        self.mode = store.dsn.split("/")[0]
        self.name = store.dsn
        self.jid = jid
        self.events = events
        self.stopped = threading.Event()
        self.connects = 0

    def connect(self) -> None:
        self.connects += 1
        # When it started, on the machine-wide monotonic clock: the pauses between attempts are
        # measured where they happen, not where the test reads the events.
        log.info("fake: connect %s #%d at %.4f", self.name, self.connects, time.monotonic())
        if self.stopped.is_set():
            return
        if self.mode == "fail":
            raise ClientError("dial tcp: no such host (fake)")
        if self.mode in ("qr", "hang"):
            self.events.qr("2@fake-code", int(time.time() * 1000) + 60_000)
            if self.mode == "hang":
                threading.Event().wait()
        elif self.mode == "logout":
            self.events.logged_out("LOGGED_OUT")
        elif self.mode == "media":
            self.events.connected(self.jid or DEVICE)
            data = {"typeMessage": "imageMessage", "fileMessageData": {"fileName": "a.jpg"}}
            content = file_of(int(self.name.split("/")[1]))
            chat = "15550002@c.us"
            log.info("fake: receiving %d bytes", len(content))
            self.events.message(Received("3EB0F1", chat, chat, "", 0, False, data, file=content))
        else:
            self.events.connected(self.jid or DEVICE)
        self.stopped.wait()

    def stop(self) -> None:
        log.info("fake: stop %s", self.name)
        self.stopped.set()

    def logout(self) -> None:
        log.info("fake: logout %s", self.name)

    def pair_phone(self, phone: str) -> str:
        return f"CODE-{phone[-4:]}"

    def send(
        self, chat_id: str, message_data: dict[str, Any], file: FileToSend | None = None
    ) -> str:
        if message_data.get("typeMessage") == "refused":
            raise ClientError("the fake refuses this message")
        if file is not None:
            digest = hashlib.sha256(file.content).hexdigest()
            return f"WA-{len(file.content)}-{digest}-{file.mime_type}-{file.file_name}"
        return f"WA-{chat_id.split('@')[0]}-{message_data.get('textMessage', '')}"

    def mark_read(self, chat_id: str, sender: str, id_messages: list[str]) -> None:
        log.info("fake: read %s %s %s", chat_id, sender, ",".join(id_messages))

    def exists(self, phone: str) -> bool:
        return phone.endswith("1")

    # Groups: group ids ending in 404 do not exist; a name "refused" is refused.

    def create_group(self, name: str, participants: list[str]) -> dict[str, str]:
        log.info("fake: create group %s with %s", name, ",".join(participants))
        return {"chatId": "120363000000000001@g.us", "groupInviteLink": INVITE}

    def group_data(self, group_id: str) -> dict[str, Any] | None:
        if group_id.startswith("404"):
            return None
        return {"groupId": group_id, "subject": "fake"}

    def rename_group(self, group_id: str, name: str) -> str:
        return NOT_ADMIN if name == "refused" else ""

    def group_participant(self, group_id: str, participant: str, action: str) -> str:
        log.info("fake: %s %s in %s", action, participant, group_id)
        return ""

    def leave_group(self, group_id: str) -> str:
        return NO_GROUP if group_id.startswith("404") else ""

    def group_picture(self, group_id: str, picture: FileToSend) -> str:
        log.info("fake: picture of %s: %d bytes", group_id, len(picture.content))
        return ""

    def group_settings(
        self, group_id: str, *, members_edit: bool | None, members_send: bool | None
    ) -> str:
        log.info("fake: settings of %s: %s %s", group_id, members_edit, members_send)
        return ""

    def describe_group(self, group_id: str, description: str) -> str:
        log.info("fake: description of %s: %s", group_id, description)
        return NO_GROUP if group_id.startswith("404") else ""

    def reset_invite(self, group_id: str) -> dict[str, str]:
        if group_id.startswith("404"):
            return {"link": "", "reason": NO_GROUP}
        return {"link": INVITE + "2", "reason": ""}

    def join_group(self, link: str) -> dict[str, str]:
        if link != INVITE:
            return {"groupId": "", "state": "", "reason": NO_INVITE}
        return {"groupId": "120363000000000001@g.us", "state": JOINED, "reason": ""}

    def block(self, chat_id: str, blocked: bool) -> None:
        log.info("fake: %s %s", "block" if blocked else "unblock", chat_id)

    def revoke(self, chat_id: str, id_message: str) -> None:
        log.info("fake: revoke %s %s", chat_id, id_message)

    def edit(self, chat_id: str, id_message: str, text: str) -> None:
        log.info("fake: edit %s %s %s", chat_id, id_message, text)

    def typing(self, chat_id: str, state: str) -> None:
        log.info("fake: typing %s %s", chat_id, state)

    def disappearing(self, chat_id: str, expiration_s: int) -> None:
        log.info("fake: disappearing %s %d", chat_id, expiration_s)

    def profile_picture(self, picture: FileToSend) -> None:
        log.info("fake: profile picture %d bytes", len(picture.content))


class FakeFactory:
    def __init__(self, options: FactoryOptions) -> None:
        log.info("fake: factory at level %d", options.log_level)

    def migrate(self, store: Store) -> None:
        log.info("fake: migrate %s", store.dsn)
        if store.dsn.startswith("broken"):
            raise ClientError("store: cannot create tables (fake)")

    def has_device(self, store: Store, jid: str) -> bool:
        return not jid.startswith("stale")

    def client(self, store: Store, jid: str | None, events: ClientEvents) -> FakeClient:
        log.info("fake: client built for %s", store.dsn)
        return FakeClient(store, jid, events)
