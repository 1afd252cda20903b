"""Secrets at rest: partner tokens hashed, instance tokens encrypted plus a keyed digest,
webhook tokens (webhookUrlToken) encrypted."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from fleetgate.keyring import LEGACY_KEY_ID, KeyRing, KeySource

_NONCE_BYTES = 12
# No instance token is longer; a longer one is refused after hashing only this much of it.
TOKEN_MAX = 200
# Checked against when there is no instance, so that costs what a wrong token costs.
_NO_DIGEST = "0" * 64
# What a ciphertext holds, bound into it: one cannot pass for the other (the instance token
# is the default, as ciphertexts made before there was anything else say nothing).
INSTANCE_TOKEN = ""
WEBHOOK_TOKEN = "webhookUrlToken"

log = logging.getLogger(__name__)


def hash_partner_token(token: str) -> str:
    """Unkeyed SHA-256 of a partner token; tokens carry 192 random bits, so no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


@dataclass(frozen=True, slots=True)
class _Key:
    server_key: bytes
    aead: AESGCM
    digest_key: bytes
    link_key: bytes


class TokenCipher:
    """Encrypts (AES-256-GCM) and digests (HMAC-SHA256) instance tokens with the server keys.

    The first byte of every ciphertext names the key that made it. New tokens use the ring's
    current key; any key the process has loaded decrypts and verifies. With a key file as
    source, a changed file is read again before encrypting and when a ciphertext or digest
    needs a key not loaded yet, so a running server follows ``fleetgate keys rotate``; keys
    dropped from the file stay usable in memory until the process restarts.
    """

    def __init__(self, keys: bytes | KeyRing, *, source: KeySource | None = None) -> None:
        ring = keys if isinstance(keys, KeyRing) else KeyRing(((LEGACY_KEY_ID, keys),))
        self._source = source
        self._keys: dict[int, _Key] = {}
        self._current_id, self._current = self._use(ring)

    @classmethod
    def from_source(cls, source: KeySource) -> TokenCipher:
        return cls(source.load(), source=source)

    @property
    def current_id(self) -> int:
        """The id of the key new tokens are encrypted with."""
        return self._current_id

    def encrypt(self, token: str, *, id_instance: int, field: str = INSTANCE_TOKEN) -> bytes:
        """Encrypt a secret, bound to its instance id and field so a ciphertext cannot be moved."""
        self._refresh()
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._current.aead.encrypt(nonce, token.encode(), _aad(id_instance, field))
        return bytes([self._current_id]) + nonce + sealed

    def seal(self, token: str, *, id_instance: int) -> tuple[bytes, str]:
        """The ciphertext and the digest of a token, both under the current key."""
        blob = self.encrypt(token, id_instance=id_instance)
        return blob, self._digest(self._current, token)

    def decrypt(self, blob: bytes, *, id_instance: int, field: str = INSTANCE_TOKEN) -> str:
        """Decrypt what :meth:`encrypt` made, with whichever loaded key made it."""
        key = self._key_for(blob)
        if key is None:
            self._refresh()
            key = self._key_for(blob)
        if key is None:
            raise ValueError("instance token encrypted with an unknown key")
        nonce = blob[1 : 1 + _NONCE_BYTES]
        sealed = blob[1 + _NONCE_BYTES :]
        return key.aead.decrypt(nonce, sealed, _aad(id_instance, field)).decode()

    def digest(self, token: str) -> str:
        """Keyed digest of a token under the current key, stored for look-up."""
        return self._digest(self._current, token)

    def verify(self, token: str, digest: str) -> bool:
        """Whether ``digest`` is the digest of ``token`` under any loaded key (constant-time)."""
        if self._matches(token, digest):
            return True
        # A digest made under a key this process has not loaded yet (a rotation is running).
        return self._refresh() and self._matches(token, digest)

    def check(self, token: str, digest: str | None) -> bool:
        """Whether ``token`` is the instance token whose digest is ``digest``.

        ``None`` (no such instance) is checked all the same, against a digest nothing matches,
        so timing does not tell which ids exist. Tokens longer than TOKEN_MAX never match.
        """
        token = token[: TOKEN_MAX + 1]
        matches = self.verify(token, _NO_DIGEST if digest is None else digest)
        return matches and digest is not None and len(token) <= TOKEN_MAX

    def sign_link(self, text: str) -> str:
        """A signature of ``text`` (a download link's parts) under the current key."""
        self._refresh()
        return hmac.new(self._current.link_key, text.encode(), hashlib.sha256).hexdigest()

    def link_signed(self, text: str, signature: str) -> bool:
        """Whether ``signature`` signs ``text`` under any loaded key (constant-time)."""
        found = False
        for key in self._keys.values():
            mine = hmac.new(key.link_key, text.encode(), hashlib.sha256).hexdigest()
            found |= tokens_equal(mine, signature)
        return found

    def _matches(self, token: str, digest: str) -> bool:
        current = self._current
        if tokens_equal(self._digest(current, token), digest):
            return True  # the usual case: one HMAC
        found = False
        for key in self._keys.values():
            if key is not current:
                found |= tokens_equal(self._digest(key, token), digest)
        return found

    def _key_for(self, blob: bytes) -> _Key | None:
        return self._keys.get(blob[0]) if blob else None

    def _refresh(self) -> bool:
        """Re-read a changed key file; whether it was read."""
        if self._source is None or not self._source.changed():
            return False
        try:
            ring = self._source.load()
        except (OSError, ValueError):
            log.exception("the key file changed but cannot be read; keeping the keys loaded")
            return False
        self._current_id, self._current = self._use(ring)
        return True

    def _use(self, ring: KeyRing) -> tuple[int, _Key]:
        """Add the ring's keys to those loaded; its current key and id."""
        for key_id, key in ring.keys:
            known = self._keys.get(key_id)
            if known is None or known.server_key != key:  # ids wrap around after 255 keys
                self._keys[key_id] = _Key(
                    key,
                    AESGCM(_derive(key, b"fleetgate instance token encryption")),
                    _derive(key, b"fleetgate instance token digest"),
                    _derive(key, b"fleetgate download links"),
                )
        return ring.current_id, self._keys[ring.current_id]

    @staticmethod
    def _digest(key: _Key, token: str) -> str:
        return hmac.new(key.digest_key, token.encode(), hashlib.sha256).hexdigest()


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(key)


def _aad(id_instance: int, field: str) -> bytes:
    return f"{field}:{id_instance}".encode() if field else str(id_instance).encode()
