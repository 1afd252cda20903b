"""Z-API contacts (spec §12): the contact list, one contact, whether numbers have an
account, profile pictures and blocking.

The contacts are the people the instance has chats with plus its own address book (GREEN-API
addContact): ``name``/``short`` come from the address book, ``notify`` (the push name) from
their messages.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field

from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.api.zapi.instance import PREFIX
from fleetgate.api.zapi.lists import call, phone_chat, window
from fleetgate.context import Context
from fleetgate.domain.instances import InstanceView
from fleetgate.errors import InvalidInput, NotFound
from fleetgate.ids import is_phone
from fleetgate.services import chat_marks, contacts, engine_calls

router = APIRouter(prefix=PREFIX, tags=["Z-API contacts"], route_class=ZapiRoute)

_BODY = ConfigDict(extra="ignore", strict=True)
# At most this many numbers per phone-exists-batch (Z-API allows 50,000: each one is a call
# into the engine here, so a request stays within the HTTP timeouts).
BATCH_MAX = 1000
# Chats read to build the contact list.
CONTACTS_MAX = 10_000
NO_CONTACT = "contact not found"


class PhonesBody(BaseModel):
    model_config = _BODY
    phones: list[str] = Field(min_length=1, max_length=BATCH_MAX)


class BlockBody(BaseModel):
    model_config = _BODY
    phone: str = Field(min_length=1, max_length=64)
    action: str = Field(pattern="^(block|unblock)$")


def _contact(chat_id: str, notify: str, fields: dict[str, Any] | None) -> dict[str, Any]:
    first = str((fields or {}).get("firstName", ""))
    last = str((fields or {}).get("lastName", ""))
    saved = fields is not None
    return {
        "name": " ".join(p for p in (first, last) if p) if saved else None,
        "short": first if saved else None,
        "notify": notify or None,
        "vname": None,
        "phone": chat_id.removesuffix("@c.us"),
    }


async def _contacts(ctx: Context, instance: InstanceView) -> list[dict[str, Any]]:
    async with ctx.db.reading() as session:
        chats = await chat_marks.chat_list(
            session=session,
            id_instance=instance.id_instance,
            offset=0,
            limit=CONTACTS_MAX,
            groups=False,
        )
        book = await chat_marks.address_book(session=session, id_instance=instance.id_instance)
    names = {c.chat_id: c.name for c in chats}
    everyone = sorted(set(names) | set(book))
    return [
        _contact(c, names.get(c, ""), orjson.loads(book[c]) if c in book else None)
        for c in everyone
    ]


@router.get("/contacts")
async def list_contacts(
    instance: InstanceDep, ctx: ContextDep, page: str | None = None, pageSize: str | None = None
) -> OrjsonResponse:
    """A page of the contacts, by number: ``[{name, short, notify, vname, phone}]``."""
    offset, limit = window(page, pageSize)
    found = await _contacts(ctx, instance)
    return OrjsonResponse(found[offset : offset + limit])


@router.get("/contacts/{phone}")
async def get_contact(phone: str, instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """One contact: ``{name, phone, notify, short, imgUrl, about, vname}``; 404 for a number
    the instance neither chatted with nor saved."""
    phone_chat(phone)  # checks its form
    for found in await _contacts(ctx, instance):
        if found["phone"] == phone:
            return OrjsonResponse(found | {"imgUrl": None, "about": None})
    raise NotFound(NO_CONTACT)


async def _exists(ctx: Context, instance: InstanceView, phone: str) -> bool:
    return bool(await call(ctx, instance, engine_calls.EXISTS, {"phone": phone}))


@router.get("/phone-exists/{phone}")
async def phone_exists(phone: str, instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Whether the number has an account: ``{exists, phone, lid}``."""
    phone_chat(phone)
    exists = await _exists(ctx, instance, phone)
    return OrjsonResponse({"exists": exists, "phone": phone if exists else None, "lid": None})


@router.post("/phone-exists-batch", openapi_extra=json_body(PhonesBody))
async def phone_exists_batch(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Whether each number has an account: ``[{exists, inputPhone, outputPhone, lid}]``."""
    body = await parsed(PhonesBody, request, ctx)
    for phone in body.phones:
        if not is_phone(phone):
            raise InvalidInput(f"phones must be 7 to 15 digits with the country code: {phone!r}")
    out = []
    for phone in body.phones:
        exists = await _exists(ctx, instance, phone)
        out.append(
            {
                "exists": exists,
                "inputPhone": phone,
                "outputPhone": phone if exists else None,
                "lid": None,
            }
        )
    return OrjsonResponse(out)


@router.get("/profile-picture")
async def profile_picture(
    instance: InstanceDep, ctx: ContextDep, phone: str | None = None
) -> OrjsonResponse:
    """A number's profile picture: ``{"link": url}``, null when there is none to show (the
    sandbox shows only the account's own, set through setProfilePicture)."""
    chat_id = phone_chat(phone or "")
    link = None
    if instance.wid and chat_id == instance.wid:
        async with ctx.db.reading() as session:
            key = await contacts.picture_key(session=session, id_instance=instance.id_instance)
        if key is not None:
            link = ctx.media.link(instance.id_instance, key, "avatar.jpg")
    return OrjsonResponse({"link": link})


@router.post("/contacts/modify-blocked", openapi_extra=json_body(BlockBody))
async def modify_blocked(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """Block or unblock a number: ``{"value": true}``."""
    body = await parsed(BlockBody, request, ctx)
    chat_id = phone_chat(body.phone)
    blocked = body.action == "block"
    await call(ctx, instance, engine_calls.BLOCK_CONTACT, {"chatId": chat_id, "blocked": blocked})
    async with ctx.db.transaction() as session:
        await chat_marks.set_blocked(
            session=session, id_instance=instance.id_instance, chat_id=chat_id, blocked=blocked
        )
    return OrjsonResponse({"value": True})
