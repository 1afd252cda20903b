"""A bot built with the official whatsapp-chatbot-python that measures pictures, run as its own
process by the tests: ``python -m tests.media.size_bot ID TOKEN HOST``.

It prints READY once it listens, and answers every incoming image with "<size> bytes, sha256
<hex>" of the file it downloaded from the notification's downloadUrl.
"""

from __future__ import annotations

import hashlib
import sys
import urllib.request

from whatsapp_chatbot_python import GreenAPIBot, Notification

DOWNLOAD_TIMEOUT_S = 10


def main(id_instance: str, token: str, host: str) -> None:
    bot = GreenAPIBot(id_instance, token, host=host, media=host)

    @bot.router.message(type_message="imageMessage")
    def measure(notification: Notification) -> None:
        url = notification.event["messageData"]["fileMessageData"]["downloadUrl"]
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as answer:
            data = answer.read()
        notification.answer(f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")

    # The constructor drained the queue; from here on every notification is handled.
    print("READY", flush=True)
    bot.run_forever()


if __name__ == "__main__":
    main(*sys.argv[1:4])
