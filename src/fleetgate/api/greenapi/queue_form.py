"""showMessagesQueue's documented item form (spec §12): ``{messageID, type, body}``, or
``{messagesIDs, type: "ForwardMessages", body}`` for one whole forward.

``type`` is the request method that queued the message and ``body`` that request's own
fields, as the send routes keep them with the message when they queue it. A message queued
without them (by the Z-API façade, or before they were kept) shows a form derived from its
data.
"""

from __future__ import annotations

from typing import Any

import orjson
from pydantic import BaseModel

from fleetgate.domain.messages import Message

# The request method a message of each type comes from, when the request was not kept.
_TYPE_OF = {
    "textMessage": "sendMessage",
    "extendedTextMessage": "sendMessage",
    "quotedMessage": "sendMessage",
    "locationMessage": "sendLocation",
    "contactMessage": "sendContact",
    "pollMessage": "sendPoll",
}


def queue_request(method: str, body: BaseModel, **fields: Any) -> dict[str, Any]:
    """What a send request said, as the queue shows it: its fields as given (the queue
    names ``archiveChat`` ``archive``), ``fields`` replacing or adding some."""
    given = body.model_dump(exclude_none=True) | fields
    given["archive"] = bool(given.pop("archiveChat", False))
    if method == "sendMessage":
        given.setdefault("linkPreview", True)
    return {"type": method, "body": given}


def queue_items(waiting: list[Message]) -> list[dict[str, Any]]:
    """The queue's items, oldest first; the messages of one forward make a single item."""
    items: list[dict[str, Any]] = []
    forwards: dict[str, dict[str, Any]] = {}
    for m in waiting:
        request = orjson.loads(m.request) if m.request else _derived(m)
        group = request.get("group")
        if group is None:
            items.append(
                {"messageID": m.id_message, "type": request["type"], "body": request["body"]}
            )
        elif group in forwards:
            forwards[group]["messagesIDs"].append(m.id_message)
        else:
            forwards[group] = {
                "messagesIDs": [m.id_message],
                "type": request["type"],
                "body": request["body"],
            }
            items.append(forwards[group])
    return items


def _derived(m: Message) -> dict[str, Any]:
    data = orjson.loads(m.data)
    body: dict[str, Any] = {"chatId": m.chat_id}
    if "fileMessageData" in data:
        f = data["fileMessageData"]
        body |= {
            "urlFile": f.get("downloadUrl", ""),
            "fileName": f.get("fileName", ""),
            "caption": f.get("caption", ""),
        }
        return {"type": "sendFileByUrl", "body": body | {"archive": False}}
    text = data.get("textMessageData", {}).get("textMessage") or data.get(
        "extendedTextMessageData", {}
    ).get("text")
    if text is not None:
        body["message"] = text
    for key in ("locationMessageData", "contactMessageData", "pollMessageData"):
        if isinstance(data.get(key), dict):
            body |= data[key]
    return {"type": _TYPE_OF.get(m.type_message, "sendMessage"), "body": body | {"archive": False}}
