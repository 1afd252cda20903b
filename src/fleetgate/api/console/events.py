"""Server-sent events for the console: one stream per open page, fed by the signals.

``GET /console/api/events?ids=1,2`` streams the states of the listed instances (the list page);
``GET /console/api/instances/{id}/events`` streams one instance's state, its pairing QR while
it is not authorized (a new image each time it rotates) and its queue counts;
``GET /console/api/sandbox/events?phone=&instance=`` tells the sandbox page when its phone's
lists may show something new (``phone``: the page reads them again) and brings the picked
instance's state and QR. Each stream first sends the full picture, then only changes. The
partner token travels in the ``Authorization`` header, so the page reads the stream with
``fetch`` (``EventSource`` cannot send a header; a token in the URL is what the console never
does).
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Header
from starlette.responses import StreamingResponse

from fleetgate.api.bearer import PartnerDep
from fleetgate.api.console.instances import instance_id
from fleetgate.api.deps import ContextDep
from fleetgate.api.errors import PlainRoute
from fleetgate.api.qr import qr_png_base64
from fleetgate.api.sandbox_phone import own_phone
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.domain.instances import State
from fleetgate.domain.partners import Partner
from fleetgate.errors import InvalidInput, NotAuthenticated, NotFound
from fleetgate.ids import is_digits
from fleetgate.services import console_feed, partners
from fleetgate.services.console_feed import Live, PairingQr, QueueCounts

router = APIRouter(prefix="/console/api", tags=["console"], route_class=PlainRoute)

IDS_MAX = 100
# A comment line this often keeps proxies from closing a quiet stream.
KEEPALIVE_S = 15.0
# Another process's write (the CLI on SQLite) sends no signal here: look again this often. Longer
# than the signal layer's own pause, since a list page reads up to IDS_MAX rows each time.
RECHECK_MIN_S = 5.0
# A stream ends after this long and the page opens a new one: no connection lives for ever,
# and a server being stopped is never held up for long by an open page.
LIFETIME_S = 300.0
_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
Authorization = Annotated[str, Header()]


def _event(name: str, data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _state_data(id_instance: int, live: Live | None) -> dict[str, Any]:
    if live is None:
        return {"id": id_instance, "state": None, "phone": ""}
    return {"id": id_instance, "state": live.state, "phone": live.phone}


def _ids(text: str) -> list[int]:
    parts = [p for p in text.split(",") if p]
    if not parts or len(parts) > IDS_MAX:
        raise InvalidInput(f"ids must name 1 to {IDS_MAX} instances, separated by commas")
    if not all(is_digits(p) and len(p) <= 18 for p in parts):
        raise InvalidInput("ids must be instance ids (digits)")
    return sorted({int(p) for p in parts})


def _stream(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=_HEADERS)


# Left out of the OpenAPI schema: an endless stream is no operation a generated client or a
# schema-driven test can call (docs/console.md describes both).
@router.get("/events", include_in_schema=False)
async def list_events(
    partner: PartnerDep, ctx: ContextDep, authorization: Authorization, ids: str = ""
) -> StreamingResponse:
    """States of the partner's instances among ``ids``; ``state: null`` once one is gone."""
    return _stream(_states(ctx, _Session(partner, authorization), _ids(ids)))


@router.get("/instances/{idInstance}/events", include_in_schema=False)
async def instance_events(
    idInstance: str, partner: PartnerDep, ctx: ContextDep, authorization: Authorization
) -> StreamingResponse:
    """One instance: ``state``, ``qr`` (while not authorized) and ``queues`` events."""
    id_instance = instance_id(idInstance)
    found = await console_feed.live_states(db=ctx.db, partner_id=partner.id, ids=[id_instance])
    if id_instance not in found:
        raise NotFound("Instance not found")
    return _stream(_instance(ctx, _Session(partner, authorization), id_instance))


@router.get("/sandbox/events", include_in_schema=False)
async def sandbox_events(
    partner: PartnerDep,
    ctx: ContextDep,
    authorization: Authorization,
    phone: str = "",
    instance: str = "",
) -> StreamingResponse:
    """The sandbox page: ``phone`` when the partner's virtual phone's lists may have changed,
    ``state`` and ``qr`` of the partner's instance ``instance``; either may be left out."""
    if not phone and not instance:
        raise InvalidInput("name a phone, an instance, or both")
    own = await own_phone(ctx, partner, phone) if phone else ""
    id_instance = None
    if instance:
        id_instance = instance_id(instance)
        found = await console_feed.live_states(db=ctx.db, partner_id=partner.id, ids=[id_instance])
        if id_instance not in found:
            raise NotFound("Instance not found")
    return _stream(_sandbox(ctx, _Session(partner, authorization), own, id_instance))


class _Session:
    """The partner a stream serves, and the token it was opened with."""

    def __init__(self, partner: Partner, authorization: str) -> None:
        self.partner = partner
        self._token = authorization.partition(" ")[2].strip()
        self.revoked = False

    async def valid(self, ctx: Context) -> bool:
        """Whether the token still signs the partner in (a revoked one ends the stream: the
        page opens it again, is refused, and signs out)."""
        try:
            async with ctx.db.reading() as session:
                await partners.authenticate_partner(session=session, token=self._token)
        except NotAuthenticated:
            self.revoked = True
            return False
        return True


class _Clock:
    """When to wake without a signal: a re-check, a keep-alive, the stream's end."""

    def __init__(self, ctx: Context) -> None:
        self.started = self.sent = time.monotonic()
        self.recheck_s = max(ctx.signals.recheck_s(), RECHECK_MIN_S)
        self.rechecked = self.started

    def over(self) -> bool:
        return time.monotonic() - self.started >= LIFETIME_S

    def pause_s(self, until_ms: int | None = None) -> float:
        now = time.monotonic()
        pause = min(self.rechecked + self.recheck_s, self.sent + KEEPALIVE_S) - now
        if until_ms is not None:
            pause = min(pause, (until_ms - now_ms()) / 1000)
        return max(pause, 0.05)

    def recheck_due(self) -> bool:
        if time.monotonic() - self.rechecked < self.recheck_s:
            return False
        self.rechecked = time.monotonic()
        return True

    def keepalive_due(self) -> bool:
        return time.monotonic() - self.sent >= KEEPALIVE_S


_KEEPALIVE = b": keep-alive\n\n"


async def _rest(
    ctx: Context,
    signed: _Session,
    clock: _Clock,
    wakeups: console_feed.Wakeups,
    until_ms: int | None = None,
) -> bytes | None:
    """Wait for a signal or a timer; a keep-alive to send, if one is due. A stream whose token
    was revoked meanwhile is marked so (``signed.revoked``) and ends."""
    woke = await wakeups.wait(clock.pause_s(until_ms))
    # Checked even on a busy stream, which signals keep awake.
    if clock.recheck_due():
        if not await signed.valid(ctx):
            return None
        wakeups.recheck()
    elif not woke and clock.keepalive_due():
        clock.sent = time.monotonic()
        return _KEEPALIVE
    return None


async def _states(ctx: Context, signed: _Session, ids: list[int]) -> AsyncIterator[bytes]:
    partner = signed.partner
    shown: dict[int, Live | None] = {}
    clock = _Clock(ctx)
    with console_feed.watching(ctx.signals, ids) as wakeups:
        while not clock.over():
            due = wakeups.take()
            if due:
                found = await console_feed.live_states(db=ctx.db, partner_id=partner.id, ids=due)
                for id_instance in sorted(due):
                    live = found.get(id_instance)
                    if id_instance not in shown or shown[id_instance] != live:
                        shown[id_instance] = live
                        clock.sent = time.monotonic()
                        yield _event("state", _state_data(id_instance, live))
            rest = await _rest(ctx, signed, clock, wakeups)
            if signed.revoked:
                return
            if rest:
                yield rest


class _Shown:
    """What a stream has shown of one instance: its state, and its QR while not authorized."""

    def __init__(self, id_instance: int) -> None:
        self.id_instance = id_instance
        self.live: Live | None = None
        self.qr: PairingQr | None = None
        self._first = True

    async def state(self, ctx: Context, partner_id: int) -> bytes | None:
        """A ``state`` event, first and once the state changed (``live`` is then the new one)."""
        found = await console_feed.live_states(
            db=ctx.db, partner_id=partner_id, ids=[self.id_instance]
        )
        live = found.get(self.id_instance)
        if not self._first and live == self.live:
            return None
        self._first, self.live = False, live
        return _event("state", _state_data(self.id_instance, live))

    def _pairing(self) -> bool:
        return self.live is not None and self.live.state == State.NOT_AUTHORIZED

    async def qr_event(self, ctx: Context) -> bytes | None:
        """A ``qr`` event: a new image while the instance is not authorized and the one shown
        expired, or none once it is."""
        if self._pairing():
            if self.qr is None or self.qr.expires_ms <= now_ms():
                self.qr = await console_feed.pairing_qr(
                    db=ctx.db, signals=ctx.signals, id_instance=self.id_instance
                )
                if self.qr is not None:
                    png = qr_png_base64(self.qr.payload)
                    return _event("qr", {"image": png, "expiresMs": self.qr.expires_ms})
            return None
        if self.qr is not None:
            self.qr = None
            return _event("qr", {"image": None, "expiresMs": None})
        return None

    def due_ms(self) -> int | None:
        """When to look at the QR again: when it expires, or in two seconds while there is
        none yet (the engine is starting)."""
        if self.qr is not None:
            return self.qr.expires_ms
        return now_ms() + 2000 if self._pairing() else None


async def _instance(ctx: Context, signed: _Session, id_instance: int) -> AsyncIterator[bytes]:
    partner = signed.partner
    shown = _Shown(id_instance)
    counts: QueueCounts | None = None
    clock = _Clock(ctx)
    with console_feed.watching(ctx.signals, [id_instance]) as wakeups:
        while not clock.over():
            if wakeups.take():
                state = await shown.state(ctx, partner.id)
                if state is not None:
                    clock.sent = time.monotonic()
                    yield state
                if shown.live is None:
                    return  # deleted: nothing more will come
                fresh = await console_feed.queue_counts(
                    db=ctx.db, policy=ctx.queue_policy, id_instance=id_instance
                )
                if fresh != counts:
                    counts = fresh
                    waiting = {"notifications": fresh.notifications, "sends": fresh.sends}
                    yield _event("queues", waiting)
            qr = await shown.qr_event(ctx)
            if qr is not None:
                clock.sent = time.monotonic()
                yield qr
            rest = await _rest(ctx, signed, clock, wakeups, shown.due_ms())
            if signed.revoked:
                return
            if rest:
                yield rest


async def _sandbox(
    ctx: Context, signed: _Session, phone: str, id_instance: int | None
) -> AsyncIterator[bytes]:
    partner = signed.partner
    mark: tuple[int, int, int] | None = None
    shown = None if id_instance is None else _Shown(id_instance)
    clock = _Clock(ctx)
    ids = [] if id_instance is None else [id_instance]
    with console_feed.watching(ctx.signals, ids, phone) as wakeups:
        while not clock.over():
            phone_due = wakeups.take_phone()
            events: list[bytes | None] = []
            if wakeups.take() and shown is not None:
                events.append(await shown.state(ctx, partner.id))
            if phone_due:
                fresh = await console_feed.phone_mark(db=ctx.db, phone=phone)
                if fresh != mark:
                    mark = fresh
                    events.append(_event("phone", {"phone": phone}))
            if shown is not None:
                events.append(await shown.qr_event(ctx))
            for event in events:
                if event is not None:
                    clock.sent = time.monotonic()
                    yield event
            due_ms = None if shown is None else shown.due_ms()
            rest = await _rest(ctx, signed, clock, wakeups, due_ms)
            if signed.revoked:
                return
            if rest:
                yield rest
