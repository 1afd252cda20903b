"""The SSRF guard end to end: a live server with the default target policy (loopback not
allowed) never sends a webhook to a real receiver on 127.0.0.1, whatever happens on the
instance; the notification ends as a dead letter that says why."""

from __future__ import annotations

import asyncio

import httpx

from fleetgate.settings import DeliverySettings
from tests.factories import new_partner_token
from tests.receiver import Receiver
from tests.sending import new_phone, phone_sends
from tests.support import Instance, LiveServer, authorize, server_fixture

# The default policy, retrying fast so that a refused notification is dead within seconds.
STRICT_DELIVERY = DeliverySettings(
    allow_loopback=False, timeout_s=2.0, pause_s=0.2, give_up_after_s=2.0, poll_s=0.2
)
WAIT_S = 20.0


strict_server = server_fixture(
    "ssrf",
    "A live server that refuses loopback webhook targets (the default policy).",
    delivery=STRICT_DELIVERY,
    ratelimits={"enabled": False},
)


async def _hooked_instance(server: LiveServer, client: httpx.AsyncClient, url: str) -> Instance:
    token = await new_partner_token(server.settings, "ssrf")
    r = await client.post(
        f"/partner/createInstance/{token}", json={"webhookUrl": url, "incomingWebhook": "yes"}
    )
    assert r.status_code == 200, r.text
    return Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], token)


async def _dead_incoming(client: httpx.AsyncClient, inst: Instance) -> dict[str, object]:
    """The dead letter of the instance's incoming message, once the worker gave up on it."""
    auth = {"Authorization": f"Bearer {inst.partner_token}"}
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while True:
        r = await client.get("/admin/dead-letters", headers=auth)
        assert r.status_code == 200, r.text
        for dead in r.json()["deadLetters"]:
            if dead["body"]["typeWebhook"] == "incomingMessageReceived":
                return dict(dead)
        assert loop.time() < deadline, f"no dead letter yet: {r.json()}"
        await asyncio.sleep(0.1)


async def test_a_webhook_to_loopback_is_a_dead_letter_and_the_receiver_gets_nothing(
    strict_server: LiveServer, receiver: Receiver
) -> None:
    assert not strict_server.settings.delivery.allow_loopback
    async with httpx.AsyncClient(base_url=strict_server.url, timeout=30) as client:
        inst = await _hooked_instance(strict_server, client, receiver.hook("ssrf"))
        account, writer = new_phone(), new_phone()
        await authorize(client, inst, account)
        id_message = await phone_sends(client, inst.partner_token, writer, account, "hello")
        dead = await _dead_incoming(client, inst)
    assert dead["body"]["idMessage"] == id_message  # type: ignore[index]
    assert dead["idInstance"] == inst.id
    assert "loopback" in str(dead["lastError"])
    # The worker gave up on this and every earlier notification: nothing reached 127.0.0.1.
    assert receiver.got == []
