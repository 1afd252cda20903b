"""Server keys: the key ring format, where a process reads it from, and the key file.

The key file (``data_dir/secret.key``) is this module's alone: generated on first start,
replaced atomically by ``fleetgate keys rotate``, and read only through :class:`KeySource`.

A key ring lists one or more keys, each with an id (1-255) that the first byte of every
ciphertext names. The first key is the current one: it encrypts new tokens and makes their
digests. The others only decrypt; they exist while ``fleetgate keys rotate`` moves tokens to
the current key (docs/security.md).

Text form, as in ``data_dir/secret.key`` or ``FLEETGATE_SECRET_KEY``: entries ``ID:HEX``
separated by newlines, spaces or commas, ``#`` starting a comment line. A single bare hex key
(what fleetgate writes on first start) is key id 1.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fleetgate.files import FILE_MODE, private_dir, private_file
from fleetgate.settings import SECRET_KEY_FILE, Settings

KEY_BYTES = 32
KEY_ID_MAX = 255
LEGACY_KEY_ID = 1
_SEPARATORS = re.compile(r"[\s,]+")
_HEADER = (
    "# fleetgate server keys, ID:HEX. The first encrypts new tokens; the others only decrypt,\n"
    "# until `fleetgate keys rotate` has moved every token to the first. Keep this file secret.\n"
)


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Keys by id, current first."""

    keys: tuple[tuple[int, bytes], ...]

    @property
    def current_id(self) -> int:
        return self.keys[0][0]

    @property
    def current_key(self) -> bytes:
        return self.keys[0][1]

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(key_id for key_id, _ in self.keys)

    def with_new_key(self, key: bytes | None = None) -> KeyRing:
        """This ring with a fresh current key in front (the old keys decrypt only)."""
        taken = set(self.ids)
        key_id = self.current_id
        for _ in range(KEY_ID_MAX):
            key_id = key_id % KEY_ID_MAX + 1
            if key_id not in taken:
                return KeyRing(((key_id, key or secrets.token_bytes(KEY_BYTES)), *self.keys))
        raise ValueError("every key id is in use")

    def current_only(self) -> KeyRing:
        return KeyRing(self.keys[:1])

    def to_text(self) -> str:
        return _HEADER + "".join(f"{key_id}:{key.hex()}\n" for key_id, key in self.keys)


def parse_ring(text: str) -> KeyRing:
    """Read a key ring (see the module docstring); ValueError says what is wrong."""
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    entries = [e for e in _SEPARATORS.split(" ".join(lines)) if e]
    if not entries:
        raise ValueError("secret key must be hex: none given")
    if len(entries) == 1 and ":" not in entries[0]:
        return KeyRing(((LEGACY_KEY_ID, _decode(entries[0])),))
    keys: list[tuple[int, bytes]] = []
    for entry in entries:
        id_text, sep, hex_text = entry.partition(":")
        if not sep or not id_text.isdigit() or not 1 <= int(id_text) <= KEY_ID_MAX:
            raise ValueError(f"secret key must be hex, or ID:hex entries with IDs 1-{KEY_ID_MAX}")
        if any(key_id == int(id_text) for key_id, _ in keys):
            raise ValueError(f"key id {int(id_text)} appears twice")
        keys.append((int(id_text), _decode(hex_text)))
    return KeyRing(tuple(keys))


def _decode(text: str) -> bytes:
    try:
        key = bytes.fromhex(text)
    except ValueError as exc:
        raise ValueError("secret key must be hex") from exc
    if len(key) < KEY_BYTES:
        raise ValueError("secret key must be at least 32 bytes (64 hex characters)")
    return key


class KeySource:
    """Where this process's keys come from: FLEETGATE_SECRET_KEY, or the key file.

    A file can change while the process runs (``fleetgate keys rotate`` rewrites it); the
    cipher asks :meth:`changed` and reloads. A variable is fixed until restart.
    """

    def __init__(self, *, text: str | None = None, path: Path | None = None) -> None:
        if (text is None) == (path is None):
            raise ValueError("a key source is either a text or a file")
        self._text = text
        self.path = path
        self._seen: tuple[int, int, int] | None = None

    @classmethod
    def for_settings(cls, settings: Settings) -> KeySource:
        """FLEETGATE_SECRET_KEY if set; else data_dir's key file, generated on first start."""
        if settings.secret_key:
            return cls(text=settings.secret_key)
        path = settings.data_dir / SECRET_KEY_FILE
        if not path.exists():
            create_key_file(path)
        private_file(path, create=False)  # one copied in by hand may be readable by others
        return cls(path=path)

    @property
    def writable(self) -> bool:
        return self.path is not None

    def load(self) -> KeyRing:
        if self.path is None:
            assert self._text is not None
            return parse_ring(self._text)
        seen = self._stamp()
        ring = parse_ring(self.path.read_text(encoding="ascii"))
        self._seen = seen
        return ring

    def changed(self) -> bool:
        """Whether the file differs from when it was last loaded (a stat, no read)."""
        if self.path is None:
            return False
        try:
            return self._stamp() != self._seen
        except OSError:
            return False

    def save(self, ring: KeyRing) -> None:
        """Replace the key file at once (readers see the old or the new ring, never half)."""
        if self.path is None:
            raise ValueError("the keys come from FLEETGATE_SECRET_KEY, not from a file")
        write_atomically(self.path, ring.to_text())

    def _stamp(self) -> tuple[int, int, int]:
        assert self.path is not None
        st = self.path.stat()
        return st.st_ino, st.st_mtime_ns, st.st_size


def create_key_file(path: Path) -> None:
    """Write a new key so that it appears whole or not at all; the first of racing starts wins."""
    private_dir(path.parent)
    write_atomically(path, secrets.token_hex(KEY_BYTES) + "\n", replace=False)


def write_atomically(path: Path, text: str, *, replace: bool = True) -> None:
    """Write ``text`` to ``path`` through a synced temporary file (mode 0600) renamed over it.

    Without ``replace`` the file is linked instead, so a file already there is kept: of
    several processes creating it at once, the first wins and the others read its key.
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".keys-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="ascii") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, FILE_MODE)
        if replace:
            os.replace(tmp, path)
        else:
            with contextlib.suppress(FileExistsError):
                os.link(tmp, path)  # atomic, and never replaces a key another start wrote
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a crash
    finally:
        os.close(dir_fd)
