"""What a file is, told by its first bytes; names made safe to show and to download."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fleetgate.domain.files import (
    NAME_MAX_BYTES,
    extension_of,
    safe_file_name,
    sniff,
    type_message,
)

JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
MP4 = b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2mp41"
M4A = b"\x00\x00\x00\x20ftypM4A \x00\x00\x00\x00M4A mp42isom"
OPUS = b"OggS\x00\x02" + b"\x00" * 22 + b"\x01\x13OpusHead\x01\x01"
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 "
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt "
ZIP = b"PK\x03\x04\x14\x00\x06\x00"


@pytest.mark.parametrize(
    ("head", "name", "mime", "kind"),
    [
        (JPEG, "photo.jpg", "image/jpeg", "imageMessage"),
        (PNG, "", "image/png", "imageMessage"),
        (b"GIF89a\x01\x00", "a.gif", "image/gif", "imageMessage"),
        (WEBP, "s.webp", "image/webp", "imageMessage"),
        (MP4, "clip.mp4", "video/mp4", "videoMessage"),
        (b"\x00\x00\x00\x14ftyp3gp5", "v.3gp", "video/3gpp", "videoMessage"),
        (b"\x00\x00\x00\x14ftypqt  ", "v.mov", "video/quicktime", "videoMessage"),
        (M4A, "voice.m4a", "audio/mp4", "audioMessage"),
        (OPUS, "voice.ogg", "audio/ogg; codecs=opus", "audioMessage"),
        (b"OggS\x00\x02" + b"\x00" * 30, "a.ogg", "audio/ogg", "audioMessage"),
        (b"ID3\x04\x00", "song.mp3", "audio/mpeg", "audioMessage"),
        (b"\xff\xfb\x90\x64", "song.mp3", "audio/mpeg", "audioMessage"),
        (b"\xff\xf1\x50\x80", "a.aac", "audio/aac", "audioMessage"),
        (b"#!AMR\n", "a.amr", "audio/amr", "audioMessage"),
        (WAV, "a.wav", "audio/wav", "audioMessage"),
        (PDF, "report.pdf", "application/pdf", "documentMessage"),
        # The bytes decide, not the name: a PDF called photo.jpg is a document.
        (PDF, "photo.jpg", "application/pdf", "documentMessage"),
        (JPEG, "report.pdf", "image/jpeg", "imageMessage"),
        (
            ZIP,
            "a.docx",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "documentMessage",
        ),
        (ZIP, "a.zip", "application/zip", "documentMessage"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "old.doc", "application/msword", "documentMessage"),
        (b"\x1aE\xdf\xa3\x01", "v.webm", "video/webm", "documentMessage"),
        (b"<!DOCTYPE html><html>", "x.png", "text/html", "documentMessage"),
        (
            b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'>",
            "x.png",
            "image/svg+xml",
            "documentMessage",
        ),
        (b"<svg onload=alert(1)>", "a.svg", "image/svg+xml", "documentMessage"),
        ("plain text, caf\u00e9".encode(), "notes.txt", "text/plain", "documentMessage"),
        (b"\x00\x01\x02\x03binary", "x.bin", "application/octet-stream", "documentMessage"),
        (b"", "empty.jpg", "text/plain", "documentMessage"),
    ],
)
def test_kind_comes_from_the_bytes(head: bytes, name: str, mime: str, kind: str) -> None:
    assert sniff(head, name) == mime
    assert type_message(mime) == kind


def test_text_cut_inside_a_character_is_still_text() -> None:
    head = ("\u00e9" * 10).encode()[:-1]  # the last character cut in half by the head's end
    assert sniff(head) == "text/plain"


@pytest.mark.parametrize(
    ("mime", "ext"),
    [("image/jpeg", "jpg"), ("audio/ogg; codecs=opus", "ogg"), ("application/x-unknown", "bin")],
)
def test_extensions(mime: str, ext: str) -> None:
    assert extension_of(mime) == ext


@pytest.mark.parametrize(
    ("given_name", "safe"),
    [
        ("photo.jpg", "photo.jpg"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\report.pdf", "report.pdf"),
        ("..", "fallback.bin"),
        ("...hidden", "hidden"),
        ("a\x00b\x1fc.txt", "abc.txt"),
        ("invoice\u202egpj.exe", "invoicegpj.exe"),  # a right-to-left override hides .exe
        ("zero\u200bwidth.png", "zerowidth.png"),
        ("   ", "fallback.bin"),
        ("caf\u0065\u0301.txt", "caf\u00e9.txt"),  # NFC
    ],
)
def test_names_are_made_safe(given_name: str, safe: str) -> None:
    assert safe_file_name(given_name, fallback="fallback.bin") == safe


def test_long_names_keep_their_extension() -> None:
    name = safe_file_name("\u00e9" * 300 + ".pdf", fallback="x")
    assert name.endswith(".pdf")
    assert len(name.encode()) <= NAME_MAX_BYTES


@given(st.text(max_size=400))
def test_a_safe_name_never_names_a_path_or_hides_characters(name: str) -> None:
    safe = safe_file_name(name, fallback="f.bin")
    assert safe
    assert "/" not in safe and "\\" not in safe
    assert not safe.startswith(".")
    assert len(safe.encode()) <= NAME_MAX_BYTES
    assert all(unicodedata.category(c) not in ("Cc", "Cf", "Cs", "Co", "Cn") for c in safe)
