"""ORM rows. Only the storage layer sees these; services get plain types back."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, MetaData, Text, false, true
from sqlalchemy import text as sql
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fleetgate.domain.instances import Plan, State
from fleetgate.domain.notifications import NotificationStatus
from fleetgate.storage.coltypes import Blob, EpochMs, Flag, text

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class PartnerRow(Base):
    __tablename__ = "partners"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(text(100), unique=True)
    token_hash: Mapped[str] = mapped_column(text(64), unique=True)
    created_ms: Mapped[int] = mapped_column(EpochMs)
    revoked_ms: Mapped[int | None] = mapped_column(EpochMs)
    # The last instance sequence number handed out, and how many instances are not deleted.
    instance_seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    live_instances: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The account Client-Token (Z-API): while set, every instance route must send it.
    # A unique index, not a constraint: adding one on SQLite would rebuild the table.
    client_token_digest: Mapped[str | None] = mapped_column(text(64), unique=True, index=True)
    # While `fleetgate partner rotate-instance-tokens` runs: the last instance id it finished
    # (0 at the start), so an interrupted run goes on where it stopped. NULL otherwise.
    rotation_after: Mapped[int | None] = mapped_column(BigInteger)
    # The engine of the partner's new instances (NULL: the server's default).
    default_engine: Mapped[str | None] = mapped_column(text(32))


def _flag() -> Mapped[bool]:
    return mapped_column(Flag, default=False, server_default=false())


def _url() -> Mapped[str]:
    return mapped_column(text(2048), default="", server_default="")


class InstanceRow(Base):
    __tablename__ = "instances"

    id_instance: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    name: Mapped[str] = mapped_column(text(255))
    type_instance: Mapped[str] = mapped_column(text(16))
    engine: Mapped[str] = mapped_column(text(32))
    token_cipher: Mapped[bytes] = mapped_column(Blob)
    token_digest: Mapped[str] = mapped_column(text(64), unique=True)
    tariff: Mapped[str] = mapped_column(text(32))
    created_ms: Mapped[int] = mapped_column(EpochMs)
    deleted_ms: Mapped[int | None] = mapped_column(EpochMs)
    # NULL = renews automatically (partner plan); otherwise the instance stops working then.
    expires_ms: Mapped[int | None] = mapped_column(EpochMs)

    # Live state, written by the runner that owns the instance's engine session.
    state: Mapped[str] = mapped_column(
        text(16), default=State.STARTING.value, server_default=State.STARTING.value
    )
    wid: Mapped[str] = mapped_column(text(64), default="", server_default="")
    runner_id: Mapped[str | None] = mapped_column(text(80), index=True)
    # Bumped by reboot / logout; the owning runner restarts or logs out when it sees a new value.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    logout_epoch: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Engine credentials (JSON), so an authorized session survives restarts without a new scan.
    engine_auth: Mapped[str | None] = mapped_column(Text)
    # When clearWebhooksQueue last ran (it is allowed once a minute).
    queue_cleared_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    # When the send queue last sent, so the pause between sends holds across restarts.
    last_send_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")

    webhook_url: Mapped[str] = mapped_column(text(2048), default="", server_default="")
    # webhookUrlToken encrypted like the instance token (crypto.WEBHOOK_TOKEN); NULL: none.
    webhook_token_cipher: Mapped[bytes | None] = mapped_column(Blob)
    delay_send_ms: Mapped[int] = mapped_column(Integer, default=500, server_default="500")
    mark_incoming_messages_read: Mapped[bool] = _flag()
    mark_incoming_messages_read_on_reply: Mapped[bool] = _flag()
    outgoing_webhook: Mapped[bool] = _flag()
    outgoing_message_webhook: Mapped[bool] = _flag()
    outgoing_api_message_webhook: Mapped[bool] = _flag()
    incoming_webhook: Mapped[bool] = _flag()
    device_webhook: Mapped[bool] = _flag()
    status_instance_webhook: Mapped[bool] = _flag()
    state_webhook: Mapped[bool] = _flag()
    enable_messages_history: Mapped[bool] = _flag()
    keep_online_status: Mapped[bool] = _flag()
    poll_message_webhook: Mapped[bool] = _flag()
    incoming_block_webhook: Mapped[bool] = _flag()
    incoming_call_webhook: Mapped[bool] = _flag()
    edited_message_webhook: Mapped[bool] = _flag()
    deleted_message_webhook: Mapped[bool] = _flag()

    # The partner's n-th instance: Z-API list pages are fixed windows of this sequence.
    seq: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The folded name and the id, for the Z-API list's search (see storage/search.py).
    search_key: Mapped[str] = mapped_column(text(300), default="", server_default="")
    # trial, subscribed, canceling or canceled; expires_ms says until when it works.
    plan: Mapped[str] = mapped_column(
        text(12), default=Plan.SUBSCRIBED.value, server_default=Plan.SUBSCRIBED.value
    )
    canceled_ms: Mapped[int | None] = mapped_column(EpochMs)
    with_calls: Mapped[bool] = _flag()

    # Options a Z-API create or setter may set (see services/config.py OPTIONS).
    middleware: Mapped[str] = mapped_column(text(8), default="web", server_default="web")
    session_name: Mapped[str] = mapped_column(text(100), default="", server_default="")
    business_device: Mapped[bool] = _flag()
    call_reject_auto: Mapped[bool] = _flag()
    call_reject_message: Mapped[str] = mapped_column(text(1000), default="", server_default="")
    auto_read_status: Mapped[bool] = _flag()
    disable_enqueue_when_disconnected: Mapped[bool] = _flag()
    notify_sent_by_me: Mapped[bool] = _flag()

    # Per-event callback URLs ("" = none); see services/config.py CALLBACKS.
    cb_received: Mapped[str] = _url()
    cb_received_delivery: Mapped[str] = _url()
    cb_delivery: Mapped[str] = _url()
    cb_message_status: Mapped[str] = _url()
    cb_connected: Mapped[str] = _url()
    cb_disconnected: Mapped[str] = _url()
    cb_presence_chat: Mapped[str] = _url()

    __table_args__ = (
        # getInstances walks one partner's instances in creation order (keyset pages).
        Index(None, "partner_id", "created_ms", "id_instance"),
        Index(None, "partner_id", "seq"),
        # The console's deleted view (count, and pages by deletion time): a range of this
        # index instead of a scan of every partner's rows (#18). Partial, so that queries of
        # live instances (deleted_ms IS NULL) never take it over their own indexes.
        Index(
            None,
            "partner_id",
            "deleted_ms",
            "id_instance",
            sqlite_where=sql("deleted_ms IS NOT NULL"),
            postgresql_where=sql("deleted_ms IS NOT NULL"),
        ),
    )


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class RunnerRow(Base):
    """A runner process; it owns the instances whose runner_id names it while it heartbeats."""

    __tablename__ = "runners"

    id: Mapped[str] = mapped_column(text(80), primary_key=True)
    started_ms: Mapped[int] = mapped_column(EpochMs)
    heartbeat_ms: Mapped[int] = mapped_column(EpochMs)


class StateHistoryRow(Base):
    __tablename__ = "state_history"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"))
    state: Mapped[str] = mapped_column(text(16))
    wid: Mapped[str] = mapped_column(text(64))
    at_ms: Mapped[int] = mapped_column(EpochMs)

    __table_args__ = (Index(None, "id_instance", "id"),)


class NotificationRow(Base):
    """The outbox: one row per notification, written in the transaction of its cause.

    A row is deleted once delivered (webhook answered 200) or acknowledged (deleteNotification).
    Rows that could not be delivered in time become ``dead`` and wait for an operator.
    """

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"))
    type_webhook: Mapped[str] = mapped_column(text(40))
    body: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(EpochMs)
    status: Mapped[str] = mapped_column(
        text(8),
        default=NotificationStatus.PENDING.value,
        server_default=NotificationStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    # A delivery worker holds the row until claimed_until_ms; after that another may take it.
    claimed_by: Mapped[str | None] = mapped_column(text(80))
    claimed_until_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    last_error: Mapped[str | None] = mapped_column(text(500))
    dead_ms: Mapped[int | None] = mapped_column(EpochMs)
    # 0: a GREEN-API notification (to webhookUrl, or polled); 1: a callback to target_url.
    # Each lane of an instance is its own FIFO queue.
    lane: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    target_url: Mapped[str | None] = mapped_column(text(2048))

    # AUTOINCREMENT on SQLite: a receiptId is never handed out twice, even after the newest
    # row was deleted (a retried deleteNotification must not hit a newer notification).
    __table_args__ = (Index(None, "id_instance", "status", "id"), {"sqlite_autoincrement": True})


class EngineCallRow(Base):
    """A request to the engine session of an instance, answered by the runner that owns it."""

    __tablename__ = "engine_calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"), index=True)
    method: Mapped[str] = mapped_column(text(40))
    args: Mapped[str] = mapped_column(Text)
    created_ms: Mapped[int] = mapped_column(EpochMs)
    # NULL while pending; then a JSON object {"ok": ...} or {"error": ...}.
    result: Mapped[str | None] = mapped_column(Text)

    __table_args__ = ({"sqlite_autoincrement": True},)


class SandboxLinkRow(Base):
    """The sandbox network's record of which virtual phone an instance is linked to."""

    __tablename__ = "sandbox_links"

    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"), primary_key=True)
    phone: Mapped[str] = mapped_column(text(20), index=True)
    linked_ms: Mapped[int] = mapped_column(EpochMs)
    # The last sandbox event for this phone that the instance's session has taken in.
    cursor: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")


class SandboxPhoneRow(Base):
    """A virtual phone number known to the sandbox network."""

    __tablename__ = "sandbox_phones"

    phone: Mapped[str] = mapped_column(text(20), primary_key=True)
    created_ms: Mapped[int] = mapped_column(EpochMs)


class SandboxPhoneOwnerRow(Base):
    """Which partner holds a virtual phone number: the first to use it (the sandbox is shared).

    A row is only ever inserted, never changed: who holds a number is decided by the primary key
    when two partners claim it at once.
    """

    __tablename__ = "sandbox_phone_owners"

    phone: Mapped[str] = mapped_column(text(20), primary_key=True)
    partner_id: Mapped[int] = mapped_column(ForeignKey("partners.id"))
    claimed_ms: Mapped[int] = mapped_column(EpochMs)


class SandboxEventRow(Base):
    """Something the sandbox network delivers to a phone: a message or a receipt."""

    __tablename__ = "sandbox_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    to_phone: Mapped[str] = mapped_column(text(20))
    from_phone: Mapped[str] = mapped_column(text(20))
    kind: Mapped[str] = mapped_column(text(16))
    id_message: Mapped[str] = mapped_column(text(64))
    payload: Mapped[str] = mapped_column(Text)
    at_ms: Mapped[int] = mapped_column(EpochMs)

    # A phone's inbox by to_phone; its conversation (api/sandbox.py) adds what it sent.
    __table_args__ = (
        Index(None, "to_phone", "id"),
        Index(None, "from_phone", "id"),
        {"sqlite_autoincrement": True},
    )


class SandboxGroupRow(Base):
    """A group chat of the sandbox network; its members are in sandbox_group_members."""

    __tablename__ = "sandbox_groups"

    group_id: Mapped[str] = mapped_column(text(40), primary_key=True)
    subject: Mapped[str] = mapped_column(text(100))
    owner: Mapped[str] = mapped_column(text(20))
    created_ms: Mapped[int] = mapped_column(EpochMs)
    subject_ms: Mapped[int] = mapped_column(EpochMs)
    subject_owner: Mapped[str] = mapped_column(text(20))
    invite_code: Mapped[str] = mapped_column(text(32))
    # The group picture as a message's file payload (JSON: the media store's object), or NULL.
    picture: Mapped[str | None] = mapped_column(Text)
    # updateGroupSettings: may members who are not admins edit the group / send messages.
    members_edit: Mapped[bool] = mapped_column(Flag, default=True, server_default=true())
    members_send: Mapped[bool] = mapped_column(Flag, default=True, server_default=true())
    # The group's description, and when it was last set (Z-API update-group-description).
    description: Mapped[str] = mapped_column(Text, default="", server_default="")
    description_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    # Z-API requireAdminApproval (joining by link waits for an admin) and, inverted,
    # adminOnlyAddMember (may members who are not admins add others).
    require_approval: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    members_add: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())


class SandboxGroupRequestRow(Base):
    """A phone asking to join a sandbox group that wants an admin's approval."""

    __tablename__ = "sandbox_group_requests"

    group_id: Mapped[str] = mapped_column(text(40), primary_key=True)
    phone: Mapped[str] = mapped_column(text(20), primary_key=True)
    requested_ms: Mapped[int] = mapped_column(EpochMs)


class SandboxGroupMemberRow(Base):
    """A phone in a sandbox group (an instance's linked phone or a virtual one)."""

    __tablename__ = "sandbox_group_members"

    group_id: Mapped[str] = mapped_column(text(40), primary_key=True)
    phone: Mapped[str] = mapped_column(text(20), primary_key=True, index=True)
    admin: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    joined_ms: Mapped[int] = mapped_column(EpochMs)


class MessageRow(Base):
    """A message an instance sent (``out``, first queued) or received (``in``): the journals."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"))
    id_message: Mapped[str] = mapped_column(text(64))
    direction: Mapped[str] = mapped_column(text(3))
    chat_id: Mapped[str] = mapped_column(text(100))
    sender: Mapped[str] = mapped_column(text(100))
    sender_name: Mapped[str] = mapped_column(text(255), default="", server_default="")
    type_message: Mapped[str] = mapped_column(text(40))
    # The request (outgoing: method and body) or the message data (incoming), as JSON.
    data: Mapped[str] = mapped_column(Text)
    at_ms: Mapped[int] = mapped_column(EpochMs)
    # out: queued, sent, delivered, read, failed, noAccount; in: unread, read.
    status: Mapped[str] = mapped_column(text(16))
    send_by_api: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    # True while the message waits in the send queue.
    queued: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    # The least pause before sending it (after the previous send), beside the instance's own.
    delay_ms: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # The messenger's own id of an outgoing message, when its engine could not send it under
    # ours (the whatsapp engine): receipts and quotes name the message by it.
    remote_id: Mapped[str | None] = mapped_column(text(64))
    # The file a file message carries, in the media table (NULL: none, or not fetched yet).
    media_key: Mapped[str | None] = mapped_column(text(32))
    # What the request that queued an outgoing message said: {"type": method, "body": fields}
    # as JSON, for showMessagesQueue (NULL: received, or queued before this was kept).
    request: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        Index(None, "id_instance", "id_message", unique=True),
        Index(None, "id_instance", "remote_id"),
        Index(None, "id_instance", "queued", "id"),
        Index(None, "id_instance", "direction", "at_ms"),
        Index(None, "id_instance", "chat_id", "id"),
        {"sqlite_autoincrement": True},
    )


class RateHitRow(Base):
    """Requests counted per instance, method and one-second window (the rate limits)."""

    __tablename__ = "rate_hits"

    id_instance: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    method: Mapped[str] = mapped_column(text(40), primary_key=True)
    window: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hits: Mapped[int] = mapped_column(Integer)


class SandboxPairingRow(Base):
    """A sandbox instance's current QR payload or pairing code, waiting for a phone."""

    __tablename__ = "sandbox_pairings"

    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"), primary_key=True)
    qr: Mapped[str | None] = mapped_column(text(100), unique=True)
    qr_expires_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    code: Mapped[str | None] = mapped_column(text(16))
    code_phone: Mapped[str | None] = mapped_column(text(20))
    code_expires_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")


class MediaRow(Base):
    """A stored file an instance uploaded, sent or received (its bytes in the media store).

    Several rows may share one object (``object_key``): a file one sandbox phone sent to many
    instances. The object goes when the last row naming it expires.
    """

    __tablename__ = "media"

    key: Mapped[str] = mapped_column(text(32), primary_key=True)
    # The instance the file belongs to (NULL: a sandbox phone's).
    id_instance: Mapped[int | None] = mapped_column(BigInteger, index=True)
    object_key: Mapped[str] = mapped_column(text(64), index=True)
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(text(64))
    mime_type: Mapped[str] = mapped_column(text(127))
    file_name: Mapped[str] = mapped_column(text(255))
    created_ms: Mapped[int] = mapped_column(EpochMs)
    expires_ms: Mapped[int] = mapped_column(EpochMs, index=True)


class ChatRow(Base):
    """What an instance set on one of its chats: archived, and the disappearing-messages timer.

    A chat without a row has neither; the chat list itself comes from the journal.
    """

    __tablename__ = "chats"

    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"), primary_key=True)
    chat_id: Mapped[str] = mapped_column(text(100), primary_key=True)
    archived: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    # Seconds after which new messages disappear (0: off), and when that was set.
    ephemeral_expiration: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    ephemeral_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    # Z-API modify-chat marks: pinned; muted until (epoch ms, -1: for ever, NULL: not muted);
    # marked unread; messages before cleared_ms hidden (clear, delete); deleted: left out of
    # the chat list until a newer message comes. blocked: contacts/modify-blocked.
    pinned: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    mute_until_ms: Mapped[int | None] = mapped_column(BigInteger)
    unread_mark: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    cleared_ms: Mapped[int] = mapped_column(EpochMs, default=0, server_default="0")
    deleted: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    blocked: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())


class CallRow(Base):
    """A call placed to (``in``) or by (``out``) an instance: the call journals."""

    __tablename__ = "calls"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"))
    id_call: Mapped[str] = mapped_column(text(64))
    direction: Mapped[str] = mapped_column(text(3))
    chat_id: Mapped[str] = mapped_column(text(100))
    is_video: Mapped[bool] = mapped_column(Flag, default=False, server_default=false())
    # offer while ringing, then pickUp, hangUp or declined.
    status: Mapped[str] = mapped_column(text(16))
    # When it started ringing, and when it last changed (its end, once it ended).
    started_ms: Mapped[int] = mapped_column(EpochMs)
    at_ms: Mapped[int] = mapped_column(EpochMs)
    duration_s: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    __table_args__ = (
        Index(None, "id_instance", "id_call", unique=True),
        Index(None, "id_instance", "direction", "at_ms"),
        {"sqlite_autoincrement": True},
    )


class SandboxStatusRow(Base):
    """A status a phone of the sandbox network posted (an instance's phone or a virtual one)."""

    __tablename__ = "sandbox_statuses"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    from_phone: Mapped[str] = mapped_column(text(20))
    id_message: Mapped[str] = mapped_column(text(64))
    # {"messageData", "participants", "media"} as JSON.
    payload: Mapped[str] = mapped_column(Text)
    at_ms: Mapped[int] = mapped_column(EpochMs)
    deleted_ms: Mapped[int | None] = mapped_column(EpochMs)

    __table_args__ = (
        Index(None, "from_phone", "id_message", unique=True),
        {"sqlite_autoincrement": True},
    )


class SandboxStatusViewRow(Base):
    """Who a status went to, and whether they have seen it (delivered, then read)."""

    __tablename__ = "sandbox_status_views"

    status_id: Mapped[int] = mapped_column(
        ForeignKey("sandbox_statuses.id", ondelete="CASCADE"), primary_key=True
    )
    viewer_phone: Mapped[str] = mapped_column(text(20), primary_key=True, index=True)
    status: Mapped[str] = mapped_column(text(16))
    at_ms: Mapped[int] = mapped_column(EpochMs)


class ContactRow(Base):
    """A contact an instance keeps in its address book (addContact, editContact)."""

    __tablename__ = "contacts"

    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"), primary_key=True)
    chat_id: Mapped[str] = mapped_column(text(100), primary_key=True)
    # The contact's fields as the request gave them, as JSON.
    data: Mapped[str] = mapped_column(Text)
    updated_ms: Mapped[int] = mapped_column(EpochMs)


class ProfileRow(Base):
    """What an instance set about its own account: its profile picture (a media row key)."""

    __tablename__ = "profiles"

    id_instance: Mapped[int] = mapped_column(ForeignKey("instances.id_instance"), primary_key=True)
    picture_key: Mapped[str | None] = mapped_column(text(32))
    updated_ms: Mapped[int] = mapped_column(EpochMs)
