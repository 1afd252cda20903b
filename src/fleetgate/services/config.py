"""An instance's settings as stored: the columns a patch's name and webhookUrlToken set.

The settings model itself (switches, callbacks, options and the checks of a patch) lives on
the ground floor, in domain/config.py.
"""

from __future__ import annotations

from fleetgate.crypto import WEBHOOK_TOKEN, TokenCipher
from fleetgate.domain.config import ConfigPatch
from fleetgate.storage.search import search_key


def secret_values(patch: ConfigPatch, cipher: TokenCipher, id_instance: int) -> dict[str, object]:
    """The column the patch's webhookUrlToken sets: encrypted, or NULL for no token."""
    token = patch.webhook_url_token
    if token is None:
        return {}
    blob = cipher.encrypt(token, id_instance=id_instance, field=WEBHOOK_TOKEN) if token else None
    return {"webhook_token_cipher": blob}


def name_values(name: str, id_instance: int) -> dict[str, object]:
    """The columns a name sets: the name itself (a default if empty) and its search key."""
    name = name or f"Instance {id_instance}"
    return {"name": name, "search_key": search_key(name, id_instance)}
