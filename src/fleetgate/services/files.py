"""File messages: the data that describes one, and getting a queued one's file ready to send.

A file sent by upload (or by a link fleetgate gave out) is stored before its message is
queued. A file sent by any other URL is fetched when its turn in the queue comes, by the
runner, so a slow or large download never holds the API request: if it fails, the message
fails with an outgoingMessageStatus saying why, as a failed send does.
"""

from __future__ import annotations

from typing import Any

import orjson

from fleetgate.domain.files import StoredFile
from fleetgate.domain.messages import Message
from fleetgate.services.media import FetchFailed, Media
from fleetgate.storage.repos import messages as messages_repo

FILE_TYPES = frozenset(
    {"imageMessage", "videoMessage", "audioMessage", "documentMessage", "stickerMessage"}
)


def file_message_data(
    file: StoredFile,
    *,
    link: str,
    caption: str = "",
    type_message: str | None = None,
    file_name: str | None = None,
) -> dict[str, Any]:
    """GREEN-API messageData of a file message (its type from the file's bytes unless given)."""
    return {
        "typeMessage": type_message or file.type_message,
        "fileMessageData": {
            "downloadUrl": link,
            "caption": caption,
            "fileName": file_name or file.file_name,
            "jpegThumbnail": "",
            "mimeType": file.mime_type,
        },
    }


def is_file_message(data: dict[str, Any]) -> bool:
    return data.get("typeMessage") in FILE_TYPES and isinstance(data.get("fileMessageData"), dict)


async def ready_to_send(
    *, media: Media, message: Message, data: dict[str, Any]
) -> tuple[dict[str, Any], StoredFile | None]:
    """A queued message's data and file, its file stored (fetched now if it was named by
    URL). FetchFailed if the file cannot be had; data without a file passes unchanged."""
    if not is_file_message(data):
        return data, None
    if message.media_key is not None:
        found = await media.find(message.media_key)
        if found is None:
            raise FetchFailed("the file of this message is no longer kept")
        return data, found[0]
    file_data = data["fileMessageData"]
    stored = await media.fetch(
        str(file_data.get("downloadUrl", "")),
        id_instance=message.id_instance,
        file_name=str(file_data.get("fileName", "")),
    )
    kind = data["typeMessage"] if data["typeMessage"] == "stickerMessage" else None
    fresh = file_message_data(
        stored,
        link=media.link(message.id_instance, stored.key, stored.file_name),
        caption=str(file_data.get("caption", "")),
        type_message=kind,
    )
    ready = data | {
        "typeMessage": fresh["typeMessage"],
        "fileMessageData": file_data | fresh["fileMessageData"],
    }
    async with media.db.transaction() as session:
        await messages_repo.attach_media(
            session,
            message.id,
            media_key=stored.key,
            data=orjson.dumps(ready).decode(),
            type_message=ready["typeMessage"],
        )
    return ready, stored
