"""Secrets at rest: instance-token encryption and digests, partner-token hashing."""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path

import pytest
from cryptography.exceptions import InvalidTag
from hypothesis import given
from hypothesis import strategies as st

from fleetgate.crypto import (
    TOKEN_MAX,
    WEBHOOK_TOKEN,
    TokenCipher,
    hash_partner_token,
    tokens_equal,
)
from fleetgate.ids import new_instance_token
from fleetgate.keyring import KeySource
from fleetgate.settings import SECRET_KEY_FILE, Settings

KEY_A = bytes.fromhex("11" * 32)
KEY_B = bytes.fromhex("22" * 32)
ID = 1101000001


@pytest.fixture
def cipher() -> TokenCipher:
    return TokenCipher(KEY_A)


def test_round_trip(cipher: TokenCipher) -> None:
    token = new_instance_token()
    blob = cipher.encrypt(token, id_instance=ID)
    assert isinstance(blob, bytes)
    assert token.encode() not in blob
    assert cipher.decrypt(blob, id_instance=ID) == token


def test_a_fresh_cipher_with_the_same_key_decrypts(cipher: TokenCipher) -> None:
    blob = cipher.encrypt("secret-token", id_instance=ID)
    assert TokenCipher(KEY_A).decrypt(blob, id_instance=ID) == "secret-token"


def test_each_encryption_uses_a_new_nonce(cipher: TokenCipher) -> None:
    blobs = {cipher.encrypt("same", id_instance=ID) for _ in range(20)}
    assert len(blobs) == 20
    assert {cipher.decrypt(b, id_instance=ID) for b in blobs} == {"same"}


def test_ciphertext_is_bound_to_its_instance(cipher: TokenCipher) -> None:
    blob = cipher.encrypt("token-of-one", id_instance=ID)
    with pytest.raises(InvalidTag):
        cipher.decrypt(blob, id_instance=ID + 1)
    # The original instance still decrypts it: the failure was the binding, not the blob.
    assert cipher.decrypt(blob, id_instance=ID) == "token-of-one"


def test_ciphertext_is_bound_to_its_field(cipher: TokenCipher) -> None:
    """A webhookUrlToken ciphertext cannot pass for the instance token, nor the reverse."""
    hook = cipher.encrypt("hook", id_instance=7, field=WEBHOOK_TOKEN)
    assert cipher.decrypt(hook, id_instance=7, field=WEBHOOK_TOKEN) == "hook"
    with pytest.raises(InvalidTag):
        cipher.decrypt(hook, id_instance=7)
    with pytest.raises(InvalidTag):
        cipher.decrypt(cipher.encrypt("t", id_instance=7), id_instance=7, field=WEBHOOK_TOKEN)


def test_another_server_key_cannot_decrypt(cipher: TokenCipher) -> None:
    blob = cipher.encrypt("token", id_instance=ID)
    with pytest.raises(InvalidTag):
        TokenCipher(KEY_B).decrypt(blob, id_instance=ID)


def test_tampered_ciphertext_is_refused(cipher: TokenCipher) -> None:
    blob = bytearray(cipher.encrypt("token", id_instance=ID))
    blob[-1] ^= 0x01
    with pytest.raises(InvalidTag):
        cipher.decrypt(bytes(blob), id_instance=ID)


@pytest.mark.parametrize("blob", [b"", b"\x00" + bytes(40), b"\x02" + bytes(40)])
def test_unknown_key_id_or_empty_blob_is_a_value_error(cipher: TokenCipher, blob: bytes) -> None:
    with pytest.raises(ValueError, match="unknown key"):
        cipher.decrypt(blob, id_instance=ID)


def test_digest_is_stable_hex_and_keyed() -> None:
    token = new_instance_token()
    a1 = TokenCipher(KEY_A).digest(token)
    a2 = TokenCipher(KEY_A).digest(token)
    b = TokenCipher(KEY_B).digest(token)
    assert a1 == a2
    assert re.fullmatch(r"[0-9a-f]{64}", a1)
    assert a1 != b
    # Keyed: not the plain hash an attacker with the database alone could compute.
    assert a1 != hashlib.sha256(token.encode()).hexdigest()
    assert TokenCipher(KEY_A).digest(token + "x") != a1


def test_digest_does_not_depend_on_encryption(cipher: TokenCipher) -> None:
    before = cipher.digest("tok")
    cipher.encrypt("tok", id_instance=ID)
    assert cipher.digest("tok") == before


def test_partner_token_hash_is_sha256_hex() -> None:
    token = "gac." + secrets.token_hex(24)
    digest = hash_partner_token(token)
    assert digest == hashlib.sha256(token.encode()).hexdigest()
    assert hash_partner_token(token) == digest
    assert hash_partner_token(token + "0") != digest


def test_tokens_equal() -> None:
    assert tokens_equal("abc", "abc")
    assert not tokens_equal("abc", "abd")
    assert not tokens_equal("abc", "abcd")
    assert not tokens_equal("", "a")
    assert tokens_equal("", "")
    assert tokens_equal("żółw", "żółw")
    assert not tokens_equal("żółw", "zolw")


@given(
    token=st.text(max_size=200),
    id_instance=st.integers(min_value=0, max_value=9_999_999_999),
    other=st.integers(min_value=0, max_value=9_999_999_999),
    key=st.binary(min_size=32, max_size=64),
)
def test_round_trip_property(token: str, id_instance: int, other: int, key: bytes) -> None:
    cipher = TokenCipher(key)
    blob = cipher.encrypt(token, id_instance=id_instance)
    assert cipher.decrypt(blob, id_instance=id_instance) == token
    assert cipher.digest(token) == TokenCipher(key).digest(token)
    if other != id_instance:
        with pytest.raises(InvalidTag):
            cipher.decrypt(blob, id_instance=other)


@given(a=st.text(max_size=60), b=st.text(max_size=60))
def test_tokens_equal_agrees_with_equality(a: str, b: str) -> None:
    assert tokens_equal(a, b) is (a == b)
    assert tokens_equal(a, a)


# TokenCipher.check is the one instance-token gate of both façades; verify is what it rests on.


def test_check_accepts_the_right_token(cipher: TokenCipher) -> None:
    token = new_instance_token()
    _, digest = cipher.seal(token, id_instance=ID)
    assert cipher.check(token, digest) is True
    assert cipher.verify(token, digest) is True


@pytest.mark.parametrize(
    "wrong",
    ["", "x", "right-token-but-longer", "right-token"[:-1], "RIGHT-TOKEN", " right-token"],
)
def test_check_refuses_a_wrong_token(cipher: TokenCipher, wrong: str) -> None:
    digest = cipher.digest("right-token")
    assert cipher.check(wrong, digest) is False
    assert cipher.verify(wrong, digest) is False
    assert cipher.check("right-token", digest) is True  # the refusal was the token's


def test_check_refuses_a_digest_made_under_another_key(cipher: TokenCipher) -> None:
    digest = TokenCipher(KEY_B).digest("t")
    assert cipher.check("t", digest) is False


@pytest.mark.parametrize("digest", ["", "0" * 64, "zz", "f" * 64, "0" * 65])
def test_check_refuses_a_malformed_or_foreign_digest(cipher: TokenCipher, digest: str) -> None:
    assert cipher.check("t", digest) is False


@pytest.mark.parametrize("token", ["", "t", "0123456789abcdef" * 3 + "01", "x" * 10_000])
def test_check_without_a_digest_refuses_every_token(cipher: TokenCipher, token: str) -> None:
    assert cipher.check(token, None) is False


def test_an_unknown_id_takes_the_wrong_token_path(tmp_path: Path) -> None:
    """No digest is checked like a wrong token: a failed HMAC, then a look at the key file.

    A rotated key file is the observable trace of that path: a right token (one HMAC, a
    match) leaves the file unread, a wrong token and a missing digest both read it.
    """

    def rotated() -> TokenCipher:
        folder = tmp_path / str(len(list(tmp_path.iterdir())))
        folder.mkdir()
        source = KeySource.for_settings(Settings(data_dir=folder))
        cipher = TokenCipher.from_source(source)
        writer = KeySource(path=folder / SECRET_KEY_FILE)
        writer.save(writer.load().with_new_key(KEY_B))
        return cipher

    right = rotated()
    digest = right.digest("t")
    assert right.check("t", digest) is True
    assert right.current_id == 1  # matched on the first HMAC, the file not read

    wrong = rotated()
    assert wrong.check("u", wrong.digest("t")) is False
    assert wrong.current_id == 2

    unknown = rotated()
    assert unknown.check("t", None) is False
    assert unknown.current_id == 2


def test_check_refuses_a_token_over_the_length_bound(cipher: TokenCipher) -> None:
    at_bound = "a" * TOKEN_MAX
    assert cipher.check(at_bound, cipher.digest(at_bound)) is True
    over = "a" * (TOKEN_MAX + 1)
    # Even with the digest of exactly that token stored, it is refused for its length.
    assert cipher.verify(over, cipher.digest(over)) is True
    assert cipher.check(over, cipher.digest(over)) is False
    # A huge token is cut before hashing, and the cut does not make its prefix match.
    huge = "a" * 1_000_000
    assert cipher.check(huge, cipher.digest(huge[: TOKEN_MAX + 1])) is False
    assert cipher.check(huge, cipher.digest(huge[:TOKEN_MAX])) is False
    assert cipher.check(huge, cipher.digest(huge)) is False


def test_check_refuses_an_empty_token(cipher: TokenCipher) -> None:
    assert cipher.check("", cipher.digest(new_instance_token())) is False
    assert cipher.check("", None) is False


@given(token=st.text(max_size=TOKEN_MAX + 40), other=st.text(max_size=TOKEN_MAX + 40))
def test_check_accepts_exactly_its_own_token_within_the_bound(token: str, other: str) -> None:
    cipher = TokenCipher(KEY_A)
    digest = cipher.digest(token)
    assert cipher.check(token, digest) is (len(token) <= TOKEN_MAX)
    if other != token:
        assert cipher.check(other, digest) is False
    assert cipher.check(token, None) is False
