"""The instance API's account methods: authentication, settings, token, reboot, logout."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from fleetgate.crypto import WEBHOOK_TOKEN, TokenCipher
from fleetgate.domain.config import ConfigPatch
from fleetgate.domain.instances import InstanceView, State
from fleetgate.engines.base import ALREADY_AUTHORIZED
from fleetgate.errors import Forbidden, InvalidInput, NotAuthenticated
from fleetgate.ids import new_instance_token
from fleetgate.services import engine_calls, states
from fleetgate.services.config import name_values, secret_values
from fleetgate.services.instance_cache import InstanceCache
from fleetgate.storage.db import Database
from fleetgate.storage.repos import instances as repo
from fleetgate.storage.signals import Signals


async def authenticate_instance(
    *, cache: InstanceCache, cipher: TokenCipher, id_instance: int, token: str
) -> InstanceView:
    """The live instance if ``token`` is its current token.

    Forbidden for an unknown, deleted or expired instance; NotAuthenticated for a wrong token.
    """
    found = await cache.live(id_instance)
    if found is None:
        cipher.check(token, None)
        raise Forbidden()
    instance, digest = found
    if not cipher.check(token, digest):
        raise NotAuthenticated()
    return instance


async def update_settings(
    *,
    session: AsyncSession,
    signals: Signals,
    cipher: TokenCipher,
    id_instance: int,
    patch: ConfigPatch,
) -> None:
    """Apply a partial settings change at once (at least one setting must be given)."""
    if patch.is_empty():
        raise InvalidInput("at least one setting is required")
    patch.validate()
    values = patch.values() | secret_values(patch, cipher, id_instance)
    if patch.name is not None:
        values |= name_values(patch.name, id_instance)
    await repo.update_values(session, signals, id_instance, values)


def webhook_url_token(*, cipher: TokenCipher, instance: InstanceView) -> str:
    """The instance's webhookUrlToken in clear ("" when it has none)."""
    blob = instance.webhook_token_cipher
    if blob is None:
        return ""
    return cipher.decrypt(blob, id_instance=instance.id_instance, field=WEBHOOK_TOKEN)


async def rotate_token(
    *, session: AsyncSession, signals: Signals, cipher: TokenCipher, id_instance: int
) -> str:
    """Give the instance a new token; the old one stops working when this commits."""
    token = new_instance_token()
    blob, digest = cipher.seal(token, id_instance=id_instance)
    await repo.update_values(
        session, signals, id_instance, {"token_cipher": blob, "token_digest": digest}
    )
    return token


async def request_reboot(
    *, session: AsyncSession, signals: Signals, instance: InstanceView
) -> None:
    """Restart the engine session: the state goes to starting, then back as the engine finds."""
    await repo.bump_epoch(session, instance.id_instance, logout=False)
    await states.record_state(
        session=session,
        signals=signals,
        id_instance=instance.id_instance,
        state=State.STARTING,
        wid=instance.wid,
    )
    await signals.send(session, engine_calls.RUNNER_CHANNEL, str(instance.id_instance))


async def request_logout(*, session: AsyncSession, signals: Signals, id_instance: int) -> None:
    """Unlink the account; the owning runner logs the session out."""
    await repo.bump_epoch(session, id_instance, logout=True)
    await signals.send(session, engine_calls.RUNNER_CHANNEL, str(id_instance))


async def current_qr(*, db: Database, signals: Signals, instance: InstanceView) -> str | None:
    """The pairing QR payload to scan now; None when the account is linked already."""
    if instance.state == State.AUTHORIZED:
        return None
    try:
        answer = await engine_calls.call_engine(
            db=db,
            signals=signals,
            id_instance=instance.id_instance,
            method=engine_calls.QR,
            args={},
        )
    except InvalidInput as exc:
        if exc.message == ALREADY_AUTHORIZED:
            return None
        raise
    return str(answer["payload"])


async def pairing_code(
    *, db: Database, signals: Signals, instance: InstanceView, phone: str
) -> str:
    """A code to type on the phone instead of scanning the QR (InvalidInput if linked)."""
    if instance.state == State.AUTHORIZED:
        raise InvalidInput(ALREADY_AUTHORIZED)
    code = await engine_calls.call_engine(
        db=db,
        signals=signals,
        id_instance=instance.id_instance,
        method=engine_calls.PAIRING_CODE,
        args={"phone": phone},
    )
    return str(code)
