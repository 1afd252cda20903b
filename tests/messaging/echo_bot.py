"""An echo bot built with the official whatsapp-chatbot-python, run as its own process by the
tests: ``python -m tests.messaging.echo_bot ID TOKEN HOST STATUS_FILE``.

It prints READY once it listens, answers every incoming text with "echo: <text>", and
appends each outgoingMessageStatus it sees to STATUS_FILE as a JSON line.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from whatsapp_chatbot_python import GreenAPIBot, Notification


def main(id_instance: str, token: str, host: str, status_file: str) -> None:
    bot = GreenAPIBot(id_instance, token, host=host)

    @bot.router.message()
    def echo(notification: Notification) -> None:
        text = notification.message_text or ""
        notification.answer(f"echo: {text}")

    @bot.router.outgoing_message_status()
    def status(notification: Notification) -> None:
        event: dict[str, Any] = notification.event
        with open(status_file, "a", encoding="utf-8") as f:
            f.write(json.dumps({"idMessage": event["idMessage"], "status": event["status"]}) + "\n")

    # The constructor drained the queue; from here on every notification is handled.
    print("READY", flush=True)
    bot.run_forever()


if __name__ == "__main__":
    main(*sys.argv[1:5])
