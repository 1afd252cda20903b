"""File names and media types of the files WhatsApp carries.

A table of our own rather than the ``mimetypes`` module alone: that one reads the machine's
``/etc/mime.types``, so its answers (and the names given to received files) would change from
one machine to another for the very types WhatsApp uses most. It answers for the rarer ones.
"""

from __future__ import annotations

import mimetypes

_TYPES = {
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".mp4": "video/mp4",
    ".3gp": "video/3gpp",
    ".mov": "video/quicktime",
    ".avi": "video/x-msvideo",
    ".mp3": "audio/mpeg",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".opus": "audio/ogg",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".wav": "audio/wav",
    ".pdf": "application/pdf",
    ".txt": "text/plain",
    ".zip": "application/zip",
}
# The extension a received file of each type is named with (the first of _TYPES wins).
_EXTENSIONS = {mime: ext for ext, mime in reversed(_TYPES.items())}
UNKNOWN = "application/octet-stream"


def mime_of(file_name: str) -> str:
    """The media type a file name's extension says, or application/octet-stream."""
    dot = file_name.rfind(".")
    ext = file_name[dot:].lower() if dot > 0 else ""
    return _TYPES.get(ext) or mimetypes.types_map.get(ext) or UNKNOWN


def extension_of(mime_type: str) -> str:
    """The extension (with its dot) for a media type, or ".bin"."""
    # Voice notes come as "audio/ogg; codecs=opus": parameters do not change the extension.
    bare = mime_type.split(";", 1)[0].strip().lower()
    return _EXTENSIONS.get(bare) or mimetypes.guess_extension(bare, strict=True) or ".bin"
