"""Files carried by messages: what a file is, told by its first bytes, and a safe name for it.

A file's kind decides how it is sent (image, video, audio or document), and the kind comes
from the bytes themselves (their magic numbers), never from the name or type the sender gave:
a name ``photo.jpg`` on a PDF is still sent as a document. Names are kept for display only,
cleaned of anything that could act as a path or hide characters.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

# Bytes read from a file's start to tell its kind.
HEAD_BYTES = 4096
NAME_MAX_BYTES = 255


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file kept in the media store under ``key``."""

    key: str
    size: int
    sha256: str
    mime_type: str
    file_name: str

    @property
    def type_message(self) -> str:
        return type_message(self.mime_type)

    def as_json(self) -> dict[str, Any]:
        """The file as it travels in engine calls and sandbox messages (the object, not its
        bytes)."""
        return {
            "key": self.key,
            "size": self.size,
            "sha256": self.sha256,
            "mimeType": self.mime_type,
            "fileName": self.file_name,
        }

    @classmethod
    def from_json(cls, value: object) -> StoredFile | None:
        """The file :meth:`as_json` gave, or None for anything else (no file)."""
        if not isinstance(value, dict):
            return None
        return cls(
            value["key"], value["size"], value["sha256"], value["mimeType"], value["fileName"]
        )


# (offset, magic, MIME type), first match wins; the ISO media (ftyp) and RIFF families are told
# apart by their brand below.
_MAGIC: tuple[tuple[int, bytes, str], ...] = (
    (0, b"\xff\xd8\xff", "image/jpeg"),
    (0, b"\x89PNG\r\n\x1a\n", "image/png"),
    (0, b"GIF87a", "image/gif"),
    (0, b"GIF89a", "image/gif"),
    (0, b"%PDF-", "application/pdf"),
    (0, b"ID3", "audio/mpeg"),
    (0, b"#!AMR", "audio/amr"),
    (0, b"fLaC", "audio/flac"),
    (0, b"\x1aE\xdf\xa3", "video/webm"),
    (0, b"7z\xbc\xaf\x27\x1c", "application/x-7z-compressed"),
    (0, b"Rar!\x1a\x07", "application/vnd.rar"),
    (0, b"\x1f\x8b", "application/gzip"),
    (0, b"BM", "image/bmp"),
)
_FTYP = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
}
_RIFF = {b"WEBP": "image/webp", b"WAVE": "audio/wav", b"AVI ": "video/x-msvideo"}
# Containers whose contents the name tells better than the bytes: an Office file is a ZIP (or an
# OLE compound file); the name's extension then picks the exact type, the kind stays document.
_ZIP_KINDS = {
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odt": "application/vnd.oasis.opendocument.text",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "apk": "application/vnd.android.package-archive",
    "epub": "application/epub+zip",
}
_OLE_KINDS = {"doc": "application/msword", "xls": "application/vnd.ms-excel"}
_EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/webp": "webp",
    "image/bmp": "bmp",
    "image/heic": "heic",
    "image/heif": "heif",
    "image/avif": "avif",
    "image/svg+xml": "svg",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "video/x-msvideo": "avi",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/ogg": "ogg",
    "audio/aac": "aac",
    "audio/amr": "amr",
    "audio/flac": "flac",
    "audio/wav": "wav",
    "application/pdf": "pdf",
    "application/zip": "zip",
    "text/plain": "txt",
    "text/html": "html",
}
# Kinds WhatsApp shows inline; everything else goes as a document.
_IMAGES = {"image/jpeg", "image/png", "image/gif", "image/webp"}
_VIDEOS = {"video/mp4", "video/3gpp", "video/quicktime"}


def sniff(head: bytes, file_name: str = "") -> str:
    """The MIME type of a file from its first bytes (``file_name`` only refines containers)."""
    for offset, magic, mime in _MAGIC:
        if head[offset : offset + len(magic)] == magic:
            return mime
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP:
            return _FTYP[brand]
        return "video/3gpp" if brand.startswith(b"3g") else "video/mp4"
    if head[:4] == b"RIFF" and head[8:12] in _RIFF:
        return _RIFF[head[8:12]]
    if head[:4] == b"OggS":
        return "audio/ogg; codecs=opus" if b"OpusHead" in head[:128] else "audio/ogg"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xF6 == 0xF0:
        return "audio/aac"  # ADTS
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        return "audio/mpeg"  # an MPEG audio frame without an ID3 tag
    extension = _extension(file_name)
    if head[:4] == b"PK\x03\x04":
        return _ZIP_KINDS.get(extension, "application/zip")
    if head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        return _OLE_KINDS.get(extension, "application/octet-stream")
    return _text_kind(head)


def _text_kind(head: bytes) -> str:
    """text/html, image/svg+xml, text/plain for text; application/octet-stream otherwise."""
    text = head.removeprefix(b"\xef\xbb\xbf")
    try:
        decoded = text.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut off at the end of the head is still text.
        if exc.start < len(text) - 4:
            return "application/octet-stream"
        decoded = text[: exc.start].decode("utf-8")
    if any(unicodedata.category(c) == "Cc" and c not in "\t\n\r\f" for c in decoded):
        return "application/octet-stream"
    lowered = decoded.lstrip().lower()
    if "<svg" in lowered[:1024] and (lowered.startswith("<svg") or lowered.startswith("<?xml")):
        return "image/svg+xml"
    if lowered.startswith(("<!doctype html", "<html", "<head", "<body", "<script", "<iframe")):
        return "text/html"
    return "text/plain"


def type_message(mime_type: str) -> str:
    """The GREEN-API message type a file of this MIME type is sent as."""
    mime = mime_type.split(";", 1)[0]
    if mime in _IMAGES:
        return "imageMessage"
    if mime in _VIDEOS:
        return "videoMessage"
    if mime.startswith("audio/"):
        return "audioMessage"
    return "documentMessage"


def extension_of(mime_type: str) -> str:
    """A file name extension for a MIME type ("bin" when none is known)."""
    return _EXTENSIONS.get(mime_type.split(";", 1)[0], "bin")


def safe_file_name(name: str, *, fallback: str) -> str:
    """``name`` cleaned for display and download: no folders, no control or direction
    characters, no leading dots, at most 255 UTF-8 bytes; ``fallback`` when nothing is left."""
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    kept = "".join(
        c for c in unicodedata.normalize("NFC", base) if unicodedata.category(c) not in _HIDDEN
    )
    kept = kept.strip().lstrip(".").strip()
    if not kept:
        return fallback
    encoded = kept.encode("utf-8")
    if len(encoded) <= NAME_MAX_BYTES:
        return kept
    stem, dot, ext = kept.rpartition(".")
    suffix = f".{ext}" if dot and 0 < len(ext.encode()) <= 16 else ""
    room = NAME_MAX_BYTES - len(suffix.encode())
    body = (stem if suffix else kept).encode()[:room].decode("utf-8", "ignore")
    return body + suffix


# Control, format (direction overrides, zero-width), surrogate, private-use and unassigned.
_HIDDEN = {"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"}


def _extension(file_name: str) -> str:
    _, dot, ext = file_name.rpartition(".")
    return ext.lower() if dot else ""
