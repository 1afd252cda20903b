"""Identifiers and secrets handed out by fleetgate."""

from __future__ import annotations

import secrets

INSTANCE_SUFFIX_SPACE = 1_000_000
PARTNER_TOKEN_PREFIX = "gac."
# An idInstance in a path has at most 18 digits: every such number fits a 64-bit integer.
INSTANCE_ID_MAX_DIGITS = 18
# A phone number with its country code and no "+" (E.164 allows at most 15 digits).
PHONE_DIGITS = range(7, 16)
# Patterns of the numbers in chat ids: a phone (<phone>@c.us), a group (<group>@g.us, old ids
# being <creator phone>-<creation time>). Looser than PHONE_DIGITS: chats keep whatever ids the
# network gave them.
CHAT_PHONE = "[0-9]{5,20}"
CHAT_GROUP = "[0-9]{5,20}(?:-[0-9]{5,20})?"


def is_digits(text: str) -> bool:
    """True for a non-empty string of ASCII digits only (str.isdigit also takes other scripts)."""
    return text.isascii() and text.isdigit()


def digits_value(text: str) -> int:
    """The value of a string of ASCII digits (check with is_digits first), at most 10**19.

    A longer number is beyond every range the API accepts and every 64-bit database integer;
    int() would refuse one of more than 4,300 digits outright.
    """
    return int(text) if len(text) <= 19 else 10**19


def parse_instance_id(text: str) -> int | None:
    """The idInstance a path or query names, or None if the text is no id at all."""
    if not is_digits(text) or len(text) > INSTANCE_ID_MAX_DIGITS:
        return None
    return int(text)


def is_phone(text: str) -> bool:
    """True for a phone number with its country code: 7 to 15 ASCII digits, no "+"."""
    return is_digits(text) and len(text) in PHONE_DIGITS


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
