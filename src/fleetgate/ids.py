"""Identifiers and secrets handed out by fleetgate."""

from __future__ import annotations

import secrets

INSTANCE_SUFFIX_SPACE = 1_000_000
PARTNER_TOKEN_PREFIX = "gac."


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits only (str.isdigit also takes other scripts)."""
    return text.isascii() and text.isdigit()


def digits_value(text: str) -> int:
    """The value of a string of ASCII digits (check with is_digits first), at most 10**19.

    A longer number is beyond every range the API accepts and every 64-bit database integer;
    int() would refuse one of more than 4,300 digits outright.
    """
    return int(text) if len(text) <= 19 else 10**19


def new_instance_id(prefix: int) -> int:
    """A random 10-digit idInstance whose first 4 digits are the shard prefix."""
    return prefix * INSTANCE_SUFFIX_SPACE + secrets.randbelow(INSTANCE_SUFFIX_SPACE)


def new_instance_token() -> str:
    """A fresh apiTokenInstance: 50 lowercase hex characters."""
    return secrets.token_hex(25)


def new_partner_token() -> str:
    """A fresh partner token: ``gac.`` and 48 lowercase hex characters."""
    return PARTNER_TOKEN_PREFIX + secrets.token_hex(24)


def new_client_token() -> str:
    """A fresh account Client-Token: ``F``, 32 lowercase hex characters, ``S`` (Z-API's shape)."""
    return "F" + secrets.token_hex(16) + "S"


def new_message_id() -> str:
    """A fresh idMessage: 20 uppercase hex characters."""
    return secrets.token_hex(10).upper()
