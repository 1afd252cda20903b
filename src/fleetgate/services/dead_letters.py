"""Dead letters as the admin API and the CLI show them."""

from __future__ import annotations

from typing import Any

import orjson

from fleetgate.domain.notifications import DeadLetter


def dead_letter_json(dead: DeadLetter) -> dict[str, Any]:
    """One dead letter as a JSON object (the admin API's items, the CLI's lines)."""
    item = dead.item
    return {
        "id": item.id,
        "idInstance": item.id_instance,
        "typeWebhook": item.type_webhook,
        "createdMs": item.created_ms,
        "deadMs": dead.dead_ms,
        "attempts": item.attempts,
        "lastError": dead.last_error,
        "body": orjson.loads(item.body),
    }
