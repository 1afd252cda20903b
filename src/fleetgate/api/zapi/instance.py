"""Z-API instance routes: connection, QR and phone code, restart, device, me, name.

``/instances/{instanceId}/token/{token}/...``; the InstanceDep dependency checks the token in
the path and, once the partner has turned it on, the account Client-Token header.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from fleetgate.api.bodies import json_body
from fleetgate.api.deps import ContextDep
from fleetgate.api.qr import qr_png_base64
from fleetgate.api.responses import OrjsonResponse
from fleetgate.api.zapi import wire
from fleetgate.api.zapi.auth import InstanceDep, parsed
from fleetgate.api.zapi.errors import ZapiRoute
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.config import ConfigPatch
from fleetgate.domain.instances import InstanceView, State
from fleetgate.errors import InvalidInput, NotReady
from fleetgate.ids import is_phone
from fleetgate.services import account

PREFIX = "/instances/{instanceId}/token/{token}"
router = APIRouter(prefix=PREFIX, tags=["Z-API instance"], route_class=ZapiRoute)
CONNECTED = "Instance already connected."


@router.get("/status")
async def status(instance: InstanceDep) -> OrjsonResponse:
    """Whether the instance is connected to its account."""
    return OrjsonResponse(wire.status(instance))


@router.get("/qr-code")
async def qr_code(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The current QR payload to scan (it rotates every 20 s)."""
    payload = await account.current_qr(db=ctx.db, signals=ctx.signals, instance=instance)
    if payload is None:
        return OrjsonResponse({"connected": True, "error": CONNECTED})
    return OrjsonResponse({"value": payload})


@router.get("/qr-code/image")
async def qr_code_image(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The current QR as a PNG data URL."""
    payload = await account.current_qr(db=ctx.db, signals=ctx.signals, instance=instance)
    if payload is None:
        return OrjsonResponse({"connected": True, "error": CONNECTED})
    return OrjsonResponse({"value": "data:image/png;base64," + qr_png_base64(payload)})


@router.get("/phone-code/{phone}")
async def phone_code(phone: str, instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """A code to type on the phone (Linked devices, link with phone number) instead of a QR."""
    if not is_phone(phone):
        raise InvalidInput("phone must be 7 to 15 digits with the country code")
    if instance.state == State.AUTHORIZED:
        raise InvalidInput(CONNECTED)
    code = await account.pairing_code(
        db=ctx.db, signals=ctx.signals, instance=instance, phone=phone
    )
    # Clients read either key.
    return OrjsonResponse({"code": code, "value": code})


@router.get("/restart")
@router.get("/restore-session")
async def restart(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Restart the session; a connected account stays connected (no new scan)."""
    async with ctx.db.transaction() as session:
        await account.request_reboot(session=session, signals=ctx.signals, instance=instance)
    return OrjsonResponse({"value": True})


@router.get("/disconnect")
@router.post("/disconnect")
async def disconnect(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Unlink the account; connecting again needs a new QR scan."""
    async with ctx.db.transaction() as session:
        await account.request_logout(
            session=session, signals=ctx.signals, id_instance=instance.id_instance
        )
    return OrjsonResponse({"value": True})


@router.get("/device")
async def device(instance: InstanceDep) -> OrjsonResponse:
    """The connected phone and this session's device."""
    if instance.state != State.AUTHORIZED:
        raise NotReady("You are not connected.")
    options = instance.options
    business = bool(options.get("business_device"))
    mobile = options.get("middleware") == "mobile"
    body: dict[str, Any] = {
        "phone": instance.wid.removesuffix("@c.us"),
        "imgUrl": None,
        "about": "",
        "name": instance.name,
        "device": {
            "sessionName": options.get("session_name") or "fleetgate",
            "device_model": "fleetgate " + ("mobile" if mobile else "web"),
        },
        "originalDevice": ("smba" if mobile else "smbi")
        if business
        else ("android" if mobile else "iphone"),
        "sessionId": instance.id_instance % 1000,
        "isBusiness": business,
    }
    return OrjsonResponse(body)


@router.get("/me")
async def me(instance: InstanceDep, token: str) -> OrjsonResponse:
    """The instance, its subscription and its settings."""
    return OrjsonResponse(wire.me(instance, token, now_ms()))


@router.put("/update-name", openapi_extra=json_body(wire.NameValue))
@router.post("/update-name", openapi_extra=json_body(wire.NameValue))
async def update_name(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Rename the instance."""
    body = await parsed(wire.NameValue, request, ctx)
    await apply(ctx, instance, ConfigPatch(name=body.value))
    return OrjsonResponse({"value": True})


async def apply(ctx: Context, instance: InstanceView, patch: ConfigPatch) -> None:
    """Change some of the instance's settings now."""
    async with ctx.db.transaction() as session:
        await account.update_settings(
            session=session,
            signals=ctx.signals,
            cipher=ctx.cipher,
            id_instance=instance.id_instance,
            patch=patch,
        )
