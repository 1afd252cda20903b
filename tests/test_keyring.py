"""Key rings: their text form, the key file, and a cipher that follows the file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fleetgate.crypto import TokenCipher
from fleetgate.keyring import KeyRing, KeySource, parse_ring
from fleetgate.settings import SECRET_KEY_FILE, Settings

A = bytes.fromhex("11" * 32)
B = bytes.fromhex("22" * 32)
ID = 1101000001


def test_a_bare_hex_key_is_key_1() -> None:
    assert parse_ring(A.hex() + "\n") == KeyRing(((1, A),))


def test_a_ring_round_trips_through_its_text_with_comments() -> None:
    ring = KeyRing(((7, B), (3, A)))
    text = ring.to_text()
    assert text.startswith("#")
    assert parse_ring(text) == ring
    assert parse_ring(f"7:{B.hex()}, 3:{A.hex()}") == ring  # as in FLEETGATE_SECRET_KEY
    assert (ring.current_id, ring.current_key, ring.ids) == (7, B, (7, 3))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (f"0:{A.hex()}", "IDs 1-255"),
        (f"256:{A.hex()}", "IDs 1-255"),
        (f"{A.hex()} {B.hex()}", "ID:hex"),
        (f"2:{A.hex()} 2:{B.hex()}", "appears twice"),
        ("2:abcd", "at least 32 bytes"),
        ("2:" + "zz" * 32, "hex"),
        ("# only a comment\n", "hex"),
    ],
)
def test_bad_rings_are_a_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_ring(text)


def test_a_new_key_takes_the_next_free_id_and_wraps_after_255() -> None:
    ring = KeyRing(((1, A),)).with_new_key(B)
    assert ring.ids == (2, 1)
    assert ring.current_key == B
    assert ring.current_only() == KeyRing(((2, B),))
    assert KeyRing(((255, A),)).with_new_key().ids == (1, 255)
    assert KeyRing(((255, A), (1, B))).with_new_key().ids == (2, 255, 1)


def test_settings_read_the_current_key_of_a_ring_file(tmp_path: Path) -> None:
    (tmp_path / SECRET_KEY_FILE).write_text(KeyRing(((2, B), (1, A))).to_text())
    assert _key(Settings(data_dir=tmp_path)) == B


def test_the_key_file_is_replaced_whole_and_owner_only(tmp_path: Path) -> None:
    source = KeySource.for_settings(Settings(data_dir=tmp_path))
    first = source.load()
    assert first.ids == (1,)
    assert not source.changed()
    source.save(first.with_new_key(B))
    assert source.changed()
    path = tmp_path / SECRET_KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert source.load().ids == (2, 1)
    assert not source.changed()
    assert [p.name for p in tmp_path.iterdir()] == [SECRET_KEY_FILE]


def test_a_variable_cannot_be_saved_and_never_changes(tmp_path: Path) -> None:
    source = KeySource.for_settings(Settings(data_dir=tmp_path, secret_key=f"5:{A.hex()}"))
    assert source.load().ids == (5,)
    assert not source.writable
    assert not source.changed()
    with pytest.raises(ValueError, match="FLEETGATE_SECRET_KEY"):
        source.save(KeyRing(((6, B),)))


def test_old_keys_decrypt_and_verify_new_tokens_use_the_current_key() -> None:
    old = TokenCipher(A)
    blob, digest = old.seal("token-1", id_instance=ID)
    both = TokenCipher(KeyRing(((2, B), (1, A))))
    assert both.current_id == 2
    assert both.decrypt(blob, id_instance=ID) == "token-1"
    assert both.verify("token-1", digest)
    assert not both.verify("token-2", digest)
    new_blob, new_digest = both.seal("token-1", id_instance=ID)
    assert new_blob[0] == 2
    assert new_digest != digest
    with pytest.raises(ValueError, match="unknown key"):
        old.decrypt(new_blob, id_instance=ID)


def test_a_cipher_follows_its_key_file_and_keeps_dropped_keys(tmp_path: Path) -> None:
    source = KeySource.for_settings(Settings(data_dir=tmp_path))
    server = TokenCipher.from_source(source)
    blob_1, digest_1 = server.seal("t", id_instance=ID)

    # Another process (`fleetgate keys rotate`) adds key 2 and re-encrypts a token.
    writer = KeySource(path=tmp_path / SECRET_KEY_FILE)
    ring = writer.load().with_new_key(B)
    writer.save(ring)
    blob_2, digest_2 = TokenCipher(ring).seal("t", id_instance=ID)
    assert server.decrypt(blob_2, id_instance=ID) == "t"  # read the file for the unknown id
    assert server.current_id == 2
    assert server.encrypt("u", id_instance=ID)[0] == 2  # new tokens under the new key

    # The old key leaves the file; the running cipher still reads what it made before.
    writer.save(ring.current_only())
    assert server.verify("t", digest_1)
    assert server.verify("t", digest_2)
    assert server.decrypt(blob_1, id_instance=ID) == "t"
    # A process started now knows only the new key.
    fresh = TokenCipher.from_source(KeySource(path=tmp_path / SECRET_KEY_FILE))
    assert fresh.verify("t", digest_2)
    assert not fresh.verify("t", digest_1)


def test_a_digest_under_a_key_not_yet_loaded_is_verified_after_reading_the_file(
    tmp_path: Path,
) -> None:
    server = TokenCipher.from_source(KeySource.for_settings(Settings(data_dir=tmp_path)))
    writer = KeySource(path=tmp_path / SECRET_KEY_FILE)
    ring = writer.load().with_new_key(B)
    writer.save(ring)
    _, digest = TokenCipher(ring).seal("t", id_instance=ID)
    assert server.verify("t", digest)
    assert not server.verify("x", digest)


def _key(settings: Settings) -> bytes:
    """The current server key of ``settings`` (generated and saved on first use)."""
    return KeySource.for_settings(settings).load().current_key
