"""The official whatsapp-chatbot-python echo bot works end to end against a live fleetgate."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.support import LiveServer, MakeInstance, authorize

BOT_PHONE = "79000000100"
USER_PHONE = "79000000200"


async def _inbox(client: httpx.AsyncClient, phone: str, token: str) -> list[dict[str, object]]:
    r = await client.get(
        f"/sandbox/phones/{phone}/messages", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 200, r.text
    messages: list[dict[str, object]] = r.json()["messages"]
    return messages


async def _eventually(check, timeout: float = 20.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError("not reached in time")


async def test_echo_bot_answers_a_virtual_phone_and_sees_statuses_in_order(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, tmp_path: Path
) -> None:
    inst = await make_instance(outgoingWebhook="yes")
    await authorize(client, inst, BOT_PHONE)
    statuses = tmp_path / "statuses.jsonl"
    statuses.touch()
    bot = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.messaging.echo_bot",
            str(inst.id),
            inst.token,
            server.url,
            str(statuses),
        ],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    auth = {"Authorization": f"Bearer {inst.partner_token}"}
    try:
        # The bot drains the queue at start-up (a 5 s long-poll), then says READY.
        assert bot.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(bot.stdout.readline), 30)
        assert ready.strip() == b"READY", bot.stderr.read() if bot.stderr else ready
        # It switched on the message notifications it needs.
        assert (await client.get(inst.url("getSettings"))).json()["incomingWebhook"] == "yes"
        r = await client.post(
            f"/sandbox/phones/{USER_PHONE}/messages",
            json={"chatId": f"{BOT_PHONE}@c.us", "message": "hello bot"},
            headers=auth,
        )
        assert r.status_code == 200, r.text

        async def echoed() -> list[dict[str, object]]:
            return [m for m in await _inbox(client, USER_PHONE, inst.partner_token)]

        (answer,) = await _eventually(echoed)
        assert answer["text"] == "echo: hello bot"
        assert answer["chatId"] == f"{BOT_PHONE}@c.us"

        # The user reads the chat: the bot's answer goes sent -> delivered -> read.
        r = await client.post(
            f"/sandbox/phones/{USER_PHONE}/read", json={"chatId": f"{BOT_PHONE}@c.us"}, headers=auth
        )
        assert r.json() == {"read": 1}

        async def all_statuses() -> list[str]:
            lines = [json.loads(x) for x in statuses.read_text().splitlines()]
            mine = [x["status"] for x in lines if x["idMessage"] == answer["idMessage"]]
            return mine if len(mine) >= 3 else []

        assert await _eventually(all_statuses) == ["sent", "delivered", "read"]
        journal = (await client.get(inst.url("lastOutgoingMessages"))).json()
        assert journal[0]["idMessage"] == answer["idMessage"]
        assert journal[0]["statusMessage"] == "read"
        assert journal[0]["textMessage"] == "echo: hello bot"
        incoming = (await client.get(inst.url("lastIncomingMessages"))).json()
        assert incoming[0]["textMessage"] == "hello bot"
        assert incoming[0]["senderId"] == f"{USER_PHONE}@c.us"
    finally:
        bot.kill()
        _, err = bot.communicate(timeout=10)
        assert b"Traceback" not in err, err.decode()
