"""The shared engine contract, for the whatsapp engine with stand-in clients in real workers."""

from __future__ import annotations

from tests.engines.contract import EngineContract
from tests.whatsapp.harness import WhatsAppFixtures


class TestWhatsAppEngineContract(WhatsAppFixtures, EngineContract):
    """Every session runs in a worker subprocess; its client is tests/whatsapp/standin.py."""

    GROUPS = True
    # The library's group events are not turned into group_changed (docs/whatsapp.md).
    GROUP_EVENTS = False
