"""Secrets at rest: partner tokens hashed, instance tokens encrypted plus a keyed digest."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

# The first byte of every ciphertext names the key that made it, so keys can rotate later.
_KEY_ID = 1
_NONCE_BYTES = 12


def hash_partner_token(token: str) -> str:
    """Unkeyed SHA-256 of a partner token; tokens carry 192 random bits, so no slow hash."""
    return hashlib.sha256(token.encode()).hexdigest()


def tokens_equal(a: str, b: str) -> bool:
    """Constant-time comparison of two secrets."""
    return hmac.compare_digest(a.encode(), b.encode())


class TokenCipher:
    """Encrypts (AES-256-GCM) and digests (HMAC-SHA256) instance tokens with one server key."""

    def __init__(self, server_key: bytes) -> None:
        self._aead = AESGCM(_derive(server_key, b"fleetgate instance token encryption"))
        self._digest_key = _derive(server_key, b"fleetgate instance token digest")

    def encrypt(self, token: str, *, id_instance: int) -> bytes:
        """Encrypt a token, bound to its instance id so a ciphertext cannot be moved."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, token.encode(), _aad(id_instance))
        return bytes([_KEY_ID]) + nonce + sealed

    def decrypt(self, blob: bytes, *, id_instance: int) -> str:
        """Decrypt what :meth:`encrypt` made."""
        if not blob or blob[0] != _KEY_ID:
            raise ValueError("instance token encrypted with an unknown key")
        nonce = blob[1 : 1 + _NONCE_BYTES]
        return self._aead.decrypt(nonce, blob[1 + _NONCE_BYTES :], _aad(id_instance)).decode()

    def digest(self, token: str) -> str:
        """Keyed digest of a token, stored for look-up and constant-time comparison."""
        return hmac.new(self._digest_key, token.encode(), hashlib.sha256).hexdigest()


def _derive(key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=info).derive(key)


def _aad(id_instance: int) -> bytes:
    return str(id_instance).encode()
