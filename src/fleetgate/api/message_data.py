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


def list_menu(
    body: str, title: str, button: str, rows: list[dict[str, str]], *, footer: str = ""
) -> dict[str, Any]:
    """A list menu: a button opening titled options with descriptions (GREEN-API's
    listMessage, one section); ``rows`` are ``{title, rowId, description}``, ids distinct."""
    ids = [r["rowId"] for r in rows]
    if len(set(ids)) != len(ids):
        raise InvalidInput("option ids must be different for every option")
    return {
        "typeMessage": "listMessage",
        "listMessage": {
            "contentText": body,
            "title": title,
            "footer": footer,
            "buttonText": button,
            "sections": [{"title": title, "rows": rows}],
        },
    }


def event(
    name: str,
    start_s: int,
    *,
    description: str = "",
    canceled: bool = False,
    location: str | None = None,
    call_link_type: str | None = None,
    edits: str | None = None,
) -> dict[str, Any]:
    """A group event starting at ``start_s`` (epoch seconds). GREEN-API has no such type:
    fleetgate names it ``eventMessage``; ``edits`` (an event's id) makes it the new version
    of that event, pointed at by ``stanzaId`` as the other messages that point at one."""
    data: dict[str, Any] = {
        "name": name,
        "description": description,
        "startTime": start_s,
        "canceled": canceled,
        "location": {"name": location} if location is not None else None,
        "callLinkType": call_link_type,
    }
    if edits is not None:
        data["stanzaId"] = edits
    return {"typeMessage": "eventMessage", "eventMessageData": data}


def event_response(id_event: str, participant: str, going: bool) -> dict[str, Any]:
    """An answer to the event ``id_event`` (written by ``participant``, a chat id): going or
    not (fleetgate's ``eventResponseMessage``)."""
    return {
        "typeMessage": "eventResponseMessage",
        "eventResponseMessageData": {
            "stanzaId": id_event,
            "participant": participant,
            "response": "GOING" if going else "NOT_GOING",
        },
    }
