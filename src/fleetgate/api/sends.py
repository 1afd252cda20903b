"""Queueing a send for every façade: a reply is shaped here once, as the runner and engines
read quotes (GREEN-API's messageData shape, which both façades store)."""

from __future__ import annotations

from typing import Any

import orjson

from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput
from fleetgate.services import journals


async def queue_send(
    ctx: Context,
    instance: InstanceView,
    chat_id: str,
    data: dict[str, Any],
    quoted_id: str | None,
    *,
    media_key: str | None = None,
    delay_ms: int = 0,
    quoted_field: str = "quotedMessageId",
    request: dict[str, Any] | None = None,
) -> str:
    """Queue a message (a reply to ``quoted_id``, if given); its idMessage. ``quoted_field``
    names the façade's field in the error for a quote of another chat's message; ``request``
    is what the request said (``{"type": method, "body": fields}``), shown by the queue."""
    if quoted_id:
        data = await quoting(ctx, instance, chat_id, quoted_id, data, quoted_field)
    return await ctx.sends.enqueue(
        instance, chat_id, data, delay_ms=delay_ms, media_key=media_key, request=request
    )


async def quoting(
    ctx: Context,
    instance: InstanceView,
    chat_id: str,
    quoted_id: str,
    data: dict[str, Any],
    quoted_field: str = "quotedMessageId",
) -> dict[str, Any]:
    """A reply to a message of the same chat, shaped as GREEN-API shows quotes."""
    async with ctx.db.reading() as session:
        quoted = await journals.find_message(
            session=session, id_instance=instance.id_instance, id_message=quoted_id
        )
    if quoted is None or quoted.chat_id != chat_id:
        raise InvalidInput(f"{quoted_field} must be the id of a message of this chat")
    text = data.get("textMessageData", {}).get("textMessage", "")
    return data | {
        "typeMessage": "quotedMessage" if text else data["typeMessage"],
        "extendedTextMessageData": {
            "text": text,
            "stanzaId": quoted.id_message,
            "participant": quoted.sender,
        },
        "quotedMessage": {
            "stanzaId": quoted.id_message,
            "participant": quoted.sender,
            **orjson.loads(quoted.data),
        },
    }
