"""A bot built with the official whatsapp-chatbot-python downloads a picture a phone sent it
(from the notification's downloadUrl) and answers with its size: on a live fleetgate with
each media store. One database per store keeps it short (the bot's start-up drain alone takes
a long-poll): SQLite with the local folder, PostgreSQL with S3; both databases run every
media test in test_official_client.py and test_upload_limits.py."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.media.conftest import MediaServer
from tests.media.samples import png, sha256
from tests.sending import bearer, eventually, inbox, new_phone
from tests.support import authorize

READY_TIMEOUT_S = 30.0
PICTURE = png(width=40, height=30, seed=5)


@pytest.mark.parametrize(
    "media_server",
    [("sqlite", "local"), ("postgres", "s3")],
    indirect=True,
    ids=["sqlite-local", "postgres-s3"],
)
async def test_the_bot_measures_a_picture(
    media_server: MediaServer, media_client: httpx.AsyncClient
) -> None:
    inst = await media_server.new_instance(media_client)
    bot_phone, user_phone = new_phone(), new_phone()
    await inbox(media_client, user_phone, inst.partner_token)  # the partner claims the phone
    await authorize(media_client, inst, bot_phone)
    bot = subprocess.Popen(
        [sys.executable, "-m", "tests.media.size_bot", str(inst.id), inst.token, media_server.url],
        cwd=Path(__file__).resolve().parents[2],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert bot.stdout is not None
        ready = await asyncio.wait_for(asyncio.to_thread(bot.stdout.readline), READY_TIMEOUT_S)
        assert ready.strip() == b"READY", ready
        r = await media_client.post(
            f"/sandbox/phones/{user_phone}/messages",
            data={"chatId": f"{bot_phone}@c.us", "caption": "how big?"},
            files={"file": ("picture.png", PICTURE, "image/png")},
            headers=bearer(inst.partner_token),
        )
        assert r.status_code == 200, r.text

        async def answered() -> list[dict[str, object]]:
            return await inbox(media_client, user_phone, inst.partner_token)

        (answer,) = await eventually(answered, "the bot's answer")
        assert answer["chatId"] == f"{bot_phone}@c.us"
        assert answer["text"] == f"{len(PICTURE)} bytes, sha256 {sha256(PICTURE)}"
    finally:
        bot.kill()
        _, err = bot.communicate(timeout=10)
    assert b"Traceback" not in err, err.decode()
