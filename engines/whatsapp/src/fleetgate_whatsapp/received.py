"""Files that arrive with messages, into fleetgate's media store (in the engine's process).

The worker downloads a received file and sends its bytes with the message; here they are put
in the media store under a fresh object key, and the message carries the StoredFile, from
which the runner makes the file's row and the message's download link. A file that cannot be
stored leaves the message without it (logged once): the message itself is never held back.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from fleetgate.domain.files import HEAD_BYTES, StoredFile, safe_file_name, sniff
from fleetgate.storage.blobs import BlobStore, new_key

log = logging.getLogger(__name__)

# Parts handed to the store at a time (it sends them on in its own parts).
_PART = 1024 * 1024


async def store_received(
    blobs: BlobStore, content: bytes, message_data: dict[str, Any], id_message: str
) -> StoredFile | None:
    """Put a received file in the media store; its StoredFile, or None (logged) on failure.
    Its type is told by its bytes; its name is the one the message shows."""
    file_data = message_data.get("fileMessageData")
    given = file_data.get("fileName", "") if isinstance(file_data, dict) else ""
    name = safe_file_name(str(given), fallback=id_message)
    key = new_key()
    try:
        await blobs.put(key, _parts(content))
    except Exception as exc:
        log.warning(
            "the file of received message %s could not be stored (%s); delivered without it",
            id_message,
            exc,
        )
        return None
    return StoredFile(
        key=key,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        mime_type=sniff(content[:HEAD_BYTES], name),
        file_name=name,
    )


async def _parts(content: bytes) -> AsyncIterator[bytes]:
    view = memoryview(content)
    for start in range(0, len(content), _PART):
        yield bytes(view[start : start + _PART])
