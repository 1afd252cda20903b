"""The official whatsapp-chatbot-python echo bot (tests/messaging/echo_bot.py, its own process)
answers in a group: every member sees the answer in the group's chat, from the bot."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import httpx

from tests.sending import Json, bearer, eventually, inbox, new_phone
from tests.support import LiveServer, MakeInstance, authorize

READY_TIMEOUT_S = 30.0
ANSWER_TIMEOUT_S = 20.0


async def test_echo_bot_answers_in_a_group_and_every_member_sees_it(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance, tmp_path: Path
) -> None:
    inst = await make_instance(outgoingWebhook="yes")
    bot_phone, user, other = new_phone(), new_phone(), new_phone()
    await authorize(client, inst, bot_phone)
    auth = bearer(inst.partner_token)
    r = await client.post(
        f"/sandbox/phones/{user}/groups",
        json={"groupName": "Bot room", "chatIds": [f"{bot_phone}@c.us", f"{other}@c.us"]},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    group = r.json()["chatId"]
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
    try:
        assert bot.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(bot.stdout.readline), READY_TIMEOUT_S)
        assert ready.strip() == b"READY", bot.stderr.read() if bot.stderr else ready
        r = await client.post(
            f"/sandbox/phones/{user}/messages",
            json={"chatId": group, "message": "hello group"},
            headers=auth,
        )
        assert r.status_code == 200, r.text

        async def answers(phone: str) -> list[Json]:
            got = await inbox(client, phone, inst.partner_token)
            return [m for m in got if m["chatId"] == group and m["sender"] == f"{bot_phone}@c.us"]

        (answer,) = await eventually(lambda: answers(user), "the answer", ANSWER_TIMEOUT_S)
        assert answer["text"] == "echo: hello group"
        (seen,) = await eventually(lambda: answers(other), "the answer", ANSWER_TIMEOUT_S)
        assert seen["idMessage"] == answer["idMessage"]
        # The other member also got the user's message, which the bot answered.
        assert [m["text"] for m in await inbox(client, other, inst.partner_token)] == [
            "hello group",
            "echo: hello group",
        ]

        async def delivered() -> list[str]:
            lines = [json.loads(x) for x in statuses.read_text().splitlines()]
            mine = [x["status"] for x in lines if x["idMessage"] == answer["idMessage"]]
            return mine if "delivered" in mine else []

        assert (await eventually(delivered, "delivered", ANSWER_TIMEOUT_S))[:2] == [
            "sent",
            "delivered",
        ]
        journal = (await client.get(inst.url("lastIncomingMessages"))).json()
        assert journal[0]["chatId"] == group
        assert journal[0]["senderId"] == f"{user}@c.us"
    finally:
        bot.kill()
        _, err = bot.communicate(timeout=10)
        assert b"Traceback" not in err, err.decode()
