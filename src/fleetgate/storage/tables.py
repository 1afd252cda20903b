"""ORM rows. Only the storage layer sees these; services get plain types back."""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, MetaData, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

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


def _flag() -> Mapped[bool]:
    return mapped_column(Flag, default=False, server_default=false())


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

    webhook_url: Mapped[str] = mapped_column(text(2048), default="", server_default="")
    webhook_url_token: Mapped[str] = mapped_column(text(1024), default="", server_default="")
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

    __table_args__ = (
        # getInstances walks one partner's instances in creation order (keyset pages).
        Index(None, "partner_id", "created_ms", "id_instance"),
    )
