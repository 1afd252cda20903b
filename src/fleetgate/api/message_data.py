"""The messageData each façade's sends queue, built in one place: a GREEN-API send and its Z-API
twin (sendLocation and send-location, sendPoll and send-poll, ...) queue the very same data, so
engines and the other side of the network cannot tell which façade asked."""

from __future__ import annotations

from typing import Any

from fleetgate.errors import InvalidInput


def location(name: str, address: str, latitude: float, longitude: float) -> dict[str, Any]:
    """A point on the map (GREEN-API's locationMessage)."""
    return {
        "typeMessage": "locationMessage",
        "locationMessageData": {
            "nameLocation": name,
            "address": address,
            "latitude": latitude,
            "longitude": longitude,
            "jpegThumbnail": "",
        },
    }


def vcard(name: str, phones: list[str], organization: str = "") -> str:
    """A contact card as WhatsApp sends one: each number callable and linked to its account."""
    tel = "".join(f"TEL;type=CELL;waid={p}:+{p}\n" for p in phones)
    return f"BEGIN:VCARD\nVERSION:3.0\nFN:{name}\nORG:{organization}\n{tel}END:VCARD"


def contact(name: str, card: str) -> dict[str, Any]:
    """A contact card (GREEN-API's contactMessage)."""
    return {
        "typeMessage": "contactMessage",
        "contactMessageData": {"displayName": name, "vcard": card},
    }


def poll(question: str, options: list[str], *, multiple: bool) -> dict[str, Any]:
    """A poll (GREEN-API's pollMessage); options must differ from each other."""
    if len(set(options)) != len(options):
        raise InvalidInput("poll options must be different from each other")
    return {
        "typeMessage": "pollMessage",
        "pollMessageData": {
            "name": question,
            "options": [{"optionName": o} for o in options],
            "multipleAnswers": multiple,
        },
    }


def buttons(
    type_message: str,
    body: str,
    given: list[dict[str, Any]],
    *,
    header: str = "",
    footer: str = "",
    id_field: str = "buttonId",
) -> dict[str, Any]:
    """A text with buttons (GREEN-API's interactiveButtons or interactiveButtonsReply); the
    buttons' ids must differ (``id_field`` names them in the error)."""
    ids = [b["buttonId"] for b in given]
    if len(set(ids)) != len(ids):
        raise InvalidInput(f"{id_field} must be different for every button")
    return {
        "typeMessage": type_message,
        type_message: {"header": header, "body": body, "footer": footer, "buttons": given},
    }
