"""GREEN-API account methods of an instance: settings, state, QR and pairing, reboot, token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from fleetgate.api.bodies import json_body, parse_body, read_json
from fleetgate.api.deps import ContextDep
from fleetgate.api.greenapi.auth import PREFIX, InstanceDep
from fleetgate.api.greenapi.errors import InstanceRoute
from fleetgate.api.greenapi.ratelimit import rate_limited
from fleetgate.api.greenapi.wire import (
    AuthorizationCodeBody,
    HistoryBody,
    SetSettingsBody,
    settings_of,
    to_patch,
)
from fleetgate.api.qr import qr_png_base64
from fleetgate.api.responses import OrjsonResponse
from fleetgate.domain.instances import State
from fleetgate.engines.base import ALREADY_AUTHORIZED
from fleetgate.errors import InvalidInput, NotReady
from fleetgate.ids import digits_value, is_digits, is_phone
from fleetgate.services import account, contacts, states
from fleetgate.services.states import HISTORY_DEFAULT, HISTORY_MAX

router = APIRouter(
    prefix=PREFIX,
    tags=["GREEN-API account"],
    route_class=InstanceRoute,
    dependencies=[Depends(rate_limited)],
)

METHODS = (
    "getSettings",
    "setSettings",
    "getWaSettings",
    "getStateInstance",
    "getStatusInstance",
    "getStateInstanceHistory",
    "reboot",
    "logout",
    "qr",
    "getAuthorizationCode",
    "updateApiToken",
)


@router.get("/getSettings/{apiTokenInstance}")
async def get_settings(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The instance's settings."""
    token = account.webhook_url_token(cipher=ctx.cipher, instance=instance)
    return OrjsonResponse(settings_of(instance, webhook_url_token=token))


@router.post("/setSettings/{apiTokenInstance}", openapi_extra=json_body(SetSettingsBody))
async def set_settings(instance: InstanceDep, request: Request, ctx: ContextDep) -> OrjsonResponse:
    """Change any subset of the settings (at least one); they apply at once."""
    body = parse_body(SetSettingsBody, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.transaction() as session:
        await account.update_settings(
            session=session,
            signals=ctx.signals,
            cipher=ctx.cipher,
            id_instance=instance.id_instance,
            patch=to_patch(body),
        )
    return OrjsonResponse({"saveSettings": True})


@router.get("/getWaSettings/{apiTokenInstance}")
async def get_wa_settings(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The linked account: phone, state, device id ("" while not authorized) and the profile
    picture set with setProfilePicture."""
    phone = instance.wid.removesuffix("@c.us")
    avatar = ""
    if phone:
        async with ctx.db.reading() as session:
            key = await contacts.picture_key(session=session, id_instance=instance.id_instance)
        if key is not None:
            avatar = ctx.media.link(instance.id_instance, key, "avatar.jpg")
    return OrjsonResponse(
        {
            "avatar": avatar,
            "phone": phone,
            "stateInstance": instance.state,
            "deviceId": f"{phone}:1@s.whatsapp.net" if phone else "",
        }
    )


@router.get("/getStateInstance/{apiTokenInstance}")
async def get_state_instance(instance: InstanceDep) -> OrjsonResponse:
    """The instance state: starting, notAuthorized, authorized, blocked, sleepMode, yellowCard."""
    return OrjsonResponse({"stateInstance": instance.state})


@router.get("/getStatusInstance/{apiTokenInstance}")
async def get_status_instance(instance: InstanceDep) -> OrjsonResponse:
    """online while the account is connected (authorized), else offline."""
    return OrjsonResponse(
        {"statusInstance": "online" if instance.state == State.AUTHORIZED else "offline"}
    )


@router.get("/getStateInstanceHistory/{apiTokenInstance}")
async def get_state_instance_history(
    instance: InstanceDep, request: Request, ctx: ContextDep, count: str | None = None
) -> OrjsonResponse:
    """State changes, newest first; ``?count=`` or a ``{"count"}`` body, default 100."""
    wanted = _history_count(count, await read_json(request, ctx.settings.http.max_body_bytes))
    async with ctx.db.reading() as session:
        changes = await states.state_history(
            session=session, id_instance=instance.id_instance, count=wanted
        )
    return OrjsonResponse(
        [
            {"stateInstance": c.state, "timestamp": c.at_ms // 1000, "phoneNumber": c.wid}
            for c in changes
        ]
    )


def _history_count(query: str | None, body: Any) -> int:
    if query is not None:
        if not is_digits(query):
            raise InvalidInput("count must be an integer")
        value: int | None = digits_value(query)
    else:
        value = parse_body(HistoryBody, body).count
    if value is None:
        return HISTORY_DEFAULT
    if not 1 <= value <= HISTORY_MAX:
        raise InvalidInput(f"count must be from 1 to {HISTORY_MAX}")
    return value


@router.get("/reboot/{apiTokenInstance}")
async def reboot(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Restart the engine session; an authorized account stays authorized."""
    async with ctx.db.transaction() as session:
        await account.request_reboot(session=session, signals=ctx.signals, instance=instance)
    return OrjsonResponse({"isReboot": True})


@router.get("/logout/{apiTokenInstance}")
async def logout(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """Unlink the account from the phone; the instance becomes notAuthorized."""
    async with ctx.db.transaction() as session:
        await account.request_logout(
            session=session, signals=ctx.signals, id_instance=instance.id_instance
        )
    return OrjsonResponse({"isLogout": True})


@router.get("/qr/{apiTokenInstance}")
async def qr(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """The current pairing QR as a base64 PNG; it rotates every 20 s."""
    try:
        payload = await account.current_qr(db=ctx.db, signals=ctx.signals, instance=instance)
    except (InvalidInput, NotReady) as exc:
        return OrjsonResponse({"type": "error", "message": exc.message})
    if payload is None:
        return OrjsonResponse({"type": "alreadyLogged", "message": ALREADY_AUTHORIZED})
    return OrjsonResponse({"type": "qrCode", "message": qr_png_base64(payload)})


@router.post(
    "/getAuthorizationCode/{apiTokenInstance}", openapi_extra=json_body(AuthorizationCodeBody)
)
async def get_authorization_code(
    instance: InstanceDep, request: Request, ctx: ContextDep
) -> OrjsonResponse:
    """A pairing code the phone can type instead of scanning the QR (valid about 2.5 min)."""
    body = parse_body(
        AuthorizationCodeBody, await read_json(request, ctx.settings.http.max_body_bytes)
    )
    phone = str(body.phoneNumber)
    if not is_phone(phone):  # a negative number has a "-": no phone
        raise InvalidInput("phoneNumber must be 7 to 15 digits with the country code, no +")
    code = await account.pairing_code(
        db=ctx.db, signals=ctx.signals, instance=instance, phone=phone
    )
    return OrjsonResponse({"status": True, "code": code})


@router.get("/updateApiToken/{apiTokenInstance}")
async def update_api_token(instance: InstanceDep, ctx: ContextDep) -> OrjsonResponse:
    """A new apiTokenInstance; the old one stops working at once."""
    async with ctx.db.transaction() as session:
        token = await account.rotate_token(
            session=session,
            signals=ctx.signals,
            cipher=ctx.cipher,
            id_instance=instance.id_instance,
        )
    return OrjsonResponse({"apiTokenInstance": token})
