"""Base64 media values decoded piece by piece: the pieces add up to the file, however the
text is wrapped or padded, and bad or oversized data is refused before anything is stored."""

from __future__ import annotations

import base64
import secrets

import pytest

from fleetgate.api.zapi.media_values import base64_pieces, base64_start
from fleetgate.errors import InvalidInput
from fleetgate.services.media import FileTooLarge

# Larger than one piece (4 Mi characters), so pieces meet inside lines and groups.
CONTENT = secrets.token_bytes(5 * 1024 * 1024 + 2)
ENCODED = base64.b64encode(CONTENT).decode()


def joined(value: str, start: int) -> bytes:
    return b"".join(base64.b64decode(p, validate=True) for p in base64_pieces(value, start))


@pytest.mark.parametrize(
    "value",
    [
        ENCODED,
        ENCODED.rstrip("="),
        "\r\n".join(ENCODED[i : i + 76] for i in range(0, len(ENCODED), 76)),
        f"data:application/octet-stream;name=x.bin;base64,{ENCODED}",
    ],
    ids=["plain", "unpadded", "wrapped", "data-uri"],
)
def test_pieces_add_up_to_the_file(value: str) -> None:
    start = base64_start(value, "document", len(CONTENT))
    assert joined(value, start) == CONTENT


def test_every_piece_but_the_last_is_whole_groups() -> None:
    pieces = list(base64_pieces(ENCODED, 0))
    assert len(pieces) == 2
    assert all(len(p) % 4 == 0 for p in pieces)


def test_a_file_over_the_limit_is_refused_while_checking() -> None:
    with pytest.raises(FileTooLarge):
        base64_start(ENCODED, "image", len(CONTENT) - 1)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("data:image/png,raw", "image must be a base64 data URI"),
        ("data:image/png;base64", "image must be a base64 data URI"),
        ("data:image/png;base64,", "image holds no data"),
        ("ab$d", "image must be an http(s) URL or base64"),
        ("abcde", "image must be an http(s) URL or base64"),
        (ENCODED[:1000] + "!" + ENCODED[1000:], "image must be an http(s) URL or base64"),
    ],
)
def test_bad_base64_is_refused(value: str, error: str) -> None:
    with pytest.raises(InvalidInput, match=error.replace("(", r"\(").replace(")", r"\)")):
        base64_start(value, "image", 10**9)
