"""A message an engine sent under the messenger's own id (the whatsapp engine cannot choose
one): receipts naming either id move it on, and a quote of it names the messenger's id."""

from __future__ import annotations

from fleetgate.context import Context
from fleetgate.domain.messages import MessageStatus
from fleetgate.services import messaging
from fleetgate.storage.repos import instances as instances_repo
from fleetgate.storage.repos import messages as messages_repo
from tests.support import Instance, MakeInstance

CHAT = "79001234567@c.us"
TEXT = {"typeMessage": "textMessage", "textMessageData": {"textMessage": "hi"}}


async def _sent(ctx: Context, inst: Instance, remote_id: str | None) -> str:
    """Queue a text and record it sent by the engine (under ``remote_id``); our id."""
    async with ctx.db.transaction() as session:
        view, _ = await instances_repo.current(session, inst.id) or (None, "")
        assert view is not None
        id_message = await messaging.enqueue(
            session=session, signals=ctx.signals, instance=view, chat_id=CHAT, message_data=TEXT
        )
    async with ctx.db.transaction() as session:
        message = await messages_repo.by_id(session, inst.id, id_message)
        assert message is not None
        await messaging.record_sent(
            session=session,
            signals=ctx.signals,
            instance=view,
            message=message,
            remote_id=remote_id,
        )
    return id_message


async def _status(ctx: Context, inst: Instance, id_message: str) -> str:
    async with ctx.db.reading() as session:
        message = await messages_repo.by_id(session, inst.id, id_message)
    assert message is not None
    return message.status


async def _receipt(ctx: Context, inst: Instance, named: str, status: MessageStatus) -> None:
    async with ctx.db.transaction() as session:
        view, _ = await instances_repo.current(session, inst.id) or (None, "")
        assert view is not None
        await messaging.record_receipt(
            session=session, signals=ctx.signals, instance=view, id_message=named, status=status
        )


async def test_receipts_find_a_message_by_either_id(
    ctx: Context, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    ours = await _sent(ctx, inst, "3EB0A1B2C3D4E5F6")
    assert await _status(ctx, inst, ours) == MessageStatus.SENT
    await _receipt(ctx, inst, "3EB0A1B2C3D4E5F6", MessageStatus.DELIVERED)
    assert await _status(ctx, inst, ours) == MessageStatus.DELIVERED
    # A receipt of another instance naming the same remote id is not about this message.
    other = await make_instance()
    await _receipt(ctx, other, "3EB0A1B2C3D4E5F6", MessageStatus.READ)
    assert await _status(ctx, inst, ours) == MessageStatus.DELIVERED
    await _receipt(ctx, inst, ours, MessageStatus.READ)
    assert await _status(ctx, inst, ours) == MessageStatus.READ


async def test_a_quote_names_the_quoted_message_by_the_messengers_id(
    ctx: Context, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    mapped = await _sent(ctx, inst, "3EB0FEEDFACE0001")
    plain = await _sent(ctx, inst, None)

    def quoting(stanza: str) -> dict[str, object]:
        return {
            "typeMessage": "quotedMessage",
            "extendedTextMessageData": {"text": "re", "stanzaId": stanza, "participant": ""},
            "quotedMessage": {"stanzaId": stanza, "participant": "", **TEXT},
        }

    async with ctx.db.reading() as session:
        got = await messaging.with_remote_quotes(
            session=session, id_instance=inst.id, data=quoting(mapped)
        )
        kept = await messaging.with_remote_quotes(
            session=session, id_instance=inst.id, data=quoting(plain)
        )
        unquoted = await messaging.with_remote_quotes(
            session=session, id_instance=inst.id, data=dict(TEXT)
        )
    assert got == quoting("3EB0FEEDFACE0001")
    assert kept == quoting(plain)
    assert unquoted == TEXT
    assert messaging.quoted_id(quoting(plain)) == plain
    assert messaging.quoted_id(TEXT) is None
