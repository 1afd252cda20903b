"""Identifiers and secrets: the shapes official clients and operators rely on."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from fleetgate.ids import new_instance_id, new_instance_token, new_partner_token

HEX50 = re.compile(r"[0-9a-f]{50}")
PARTNER_TOKEN = re.compile(r"gac\.[0-9a-f]{48}")


@given(prefix=st.integers(min_value=1000, max_value=9999))
def test_instance_id_is_ten_digits_starting_with_the_prefix(prefix: int) -> None:
    id_instance = new_instance_id(prefix)
    assert isinstance(id_instance, int)
    digits = str(id_instance)
    assert len(digits) == 10
    assert digits[:4] == str(prefix)
    assert prefix * 1_000_000 <= id_instance < (prefix + 1) * 1_000_000


def test_instance_id_at_the_ends_of_the_prefix_range() -> None:
    for prefix in (1000, 9999):
        for _ in range(200):
            assert re.fullmatch(rf"{prefix}\d{{6}}", str(new_instance_id(prefix)))


def test_instance_ids_are_random_not_sequential() -> None:
    ids = {new_instance_id(1101) for _ in range(200)}
    # 200 draws from a million: a collision-free, spread-out set, not a counter.
    assert len(ids) >= 198
    assert max(ids) - min(ids) > 10_000


def test_instance_token_is_50_lowercase_hex() -> None:
    tokens = [new_instance_token() for _ in range(100)]
    for token in tokens:
        assert HEX50.fullmatch(token), token
    assert len(set(tokens)) == len(tokens)


def test_partner_token_has_the_gac_prefix_and_48_hex() -> None:
    tokens = [new_partner_token() for _ in range(100)]
    for token in tokens:
        assert token.startswith("gac.")
        assert PARTNER_TOKEN.fullmatch(token), token
    assert len(set(tokens)) == len(tokens)


def test_partner_and_instance_tokens_cannot_be_mistaken_for_each_other() -> None:
    assert not HEX50.fullmatch(new_partner_token())
    assert not new_instance_token().startswith("gac.")
