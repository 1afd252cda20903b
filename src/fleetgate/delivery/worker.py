"""The webhook delivery worker: claims queue heads, POSTs them, records the outcome.

At-least-once: a notification leaves the outbox only after its webhook answered HTTP 200. A
worker that dies holding a claim loses it when ``claimed_until_ms`` passes, and another worker
(or the same one after a restart) sends the notification again. Delivered notifications are
deleted in batches, in the same transaction as the claim of the heads they were holding up,
so a busy worker commits once per batch rather than once per webhook. On PostgreSQL several workers
share the outbox through ``FOR UPDATE SKIP LOCKED``; each instance's queue goes out in order,
one notification at a time, while different instances are delivered concurrently.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import os
import secrets
import socket
import time
from dataclasses import dataclass

import httpx
from cryptography.exceptions import InvalidTag

from fleetgate.aio import being_cancelled
from fleetgate.clock import DAY_MS, now_ms
from fleetgate.crypto import WEBHOOK_TOKEN, TokenCipher
from fleetgate.delivery.http import WebhookClient
from fleetgate.delivery.policy import RetryPolicy
from fleetgate.domain.notifications import Claimed
from fleetgate.services import outbox
from fleetgate.storage.db import Database
from fleetgate.storage.repos import outbox as repo
from fleetgate.storage.signals import Signals
from fleetgate.targets import Target, TargetPolicy, TargetRefused

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-Fleetgate-Signature"
# The only error recorded for a failed delivery to a loopback or private address.
NON_PUBLIC_FAILURE = "delivery to a non-public address failed"
_CLAIM_BATCH = 100
_MAINTENANCE_S = 30.0


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    retry: RetryPolicy
    targets: TargetPolicy
    retention_ms: int = DAY_MS
    dead_retention_ms: int = 7 * DAY_MS
    concurrency: int = 256
    poll_s: float = 1.0
    signing_secret: str | None = None
    # A claim lasts this long and is renewed while the delivery runs, so the claims of a
    # killed worker free up within this time.
    claim_hold_s: float = 30.0
    # The only worker there can be (SQLite): claims left by a crashed process are void at start.
    sole: bool = False


class DeliveryWorker:
    """Pushes notifications of instances that have a webhookUrl."""

    def __init__(
        self,
        *,
        db: Database,
        signals: Signals,
        http: WebhookClient,
        config: WorkerConfig,
        cipher: TokenCipher,
        worker_id: str | None = None,
    ) -> None:
        self.db = db
        self.cipher = cipher
        self.signals = signals
        self.http = http
        self.config = config
        self.id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"
        self._wake = asyncio.Event()
        self._inflight: dict[asyncio.Task[None], int] = {}
        # Delivered, not yet deleted: their claims keep them (and what follows them) held.
        self._finished: list[int] = []
        self._tasks: list[asyncio.Task[None]] = []
        self._unlisten: list[object] = []
        self.delivered = 0
        self.failures = 0

    @property
    def hold_ms(self) -> int:
        return int(self.config.claim_hold_s * 1000)

    async def start(self) -> None:
        """Begin delivering in the background."""
        if self.config.sole:
            async with self.db.transaction() as session:
                await repo.release_all_claims(session)
        self._unlisten.append(self.signals.listen(outbox.CHANNEL, lambda _p: self._wake.set()))
        self._tasks = [
            asyncio.create_task(self._loop(), name=f"delivery {self.id}"),
            asyncio.create_task(self._maintain(), name=f"delivery maintenance {self.id}"),
            asyncio.create_task(self._renew(), name=f"delivery claims {self.id}"),
        ]

    async def stop(self, grace_s: float = 10.0) -> None:
        """Stop claiming, give deliveries in flight ``grace_s`` to finish, then cancel them.

        A cancelled delivery keeps its claim until it runs out and is then sent again.
        """
        for unlisten in self._unlisten:
            unlisten()  # type: ignore[operator]
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace_s)
        if self._inflight:
            await asyncio.wait(list(self._inflight), timeout=grace_s)
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        if self._finished:
            # Not deleted now, they would only be sent again once their claims ran out.
            try:
                await asyncio.wait_for(self._claim(self._finished, 0), grace_s)
            except Exception:
                log.warning("%d delivered notifications stay queued", len(self._finished))

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            free = self.config.concurrency - len(self._inflight)
            claimed: list[Claimed] = []
            finished, self._finished = self._finished, []
            try:
                if finished or free > 0:
                    claimed = await self._claim(finished, min(free, _CLAIM_BATCH))
            except asyncio.CancelledError:
                # stop() cancels this loop, perhaps mid-claim: hand the delivered ones back so
                # that its last claim deletes them (a second delete of a row is harmless).
                self._finished[:0] = finished
                raise
            except Exception:
                self._finished[:0] = finished  # their claims still hold; delete them next time
                if being_cancelled():
                    raise
                log.exception("claiming notifications failed")
                await asyncio.sleep(self.config.poll_s)
            for item in claimed:
                task = asyncio.create_task(self._deliver(item))
                self._inflight[task] = item.item.id
                task.add_done_callback(self._done)
            if claimed and len(claimed) == min(free, _CLAIM_BATCH):
                continue  # there may be more due right now
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.config.poll_s)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.pop(task, None)
        self._wake.set()  # the instance's next notification may be due now

    async def _claim(self, finished: list[int], limit: int) -> list[Claimed]:
        """Delete what was delivered, then claim up to ``limit`` due heads, in one commit."""
        async with self.db.transaction() as session:
            if finished:
                await repo.delivered(session, ids=finished, worker=self.id)
            if limit <= 0:
                return []
            return await repo.claim_heads(
                session,
                worker=self.id,
                now=now_ms(),
                hold_ms=self.hold_ms,
                limit=limit,
                skip_locked=not self.db.is_sqlite,
            )

    async def _deliver(self, claimed: Claimed) -> None:
        error = await self._post(claimed)
        item = claimed.item
        if error is None:
            self._finished.append(item.id)
            self.delivered += 1
            return
        now = now_ms()
        async with self.db.transaction() as session:
            self.failures += 1
            retry_at = self.config.retry.next_attempt_ms(
                attempts=item.attempts + 1, created_ms=item.created_ms, now=now
            )
            await repo.failed(
                session,
                notification_id=item.id,
                worker=self.id,
                error=error,
                next_attempt_ms=retry_at,
                now=now,
            )
        log.info(
            "webhook delivery of notification %s for instance %s failed (%s); %s",
            item.id,
            item.id_instance,
            error,
            "dead letter" if retry_at is None else "will retry",
        )

    async def _post(self, claimed: Claimed) -> str | None:
        """POST one notification; None on HTTP 200, else why it failed."""
        body = claimed.item.body.encode()
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if claimed.token_cipher is not None:
            try:
                token = self.cipher.decrypt(
                    claimed.token_cipher, id_instance=claimed.item.id_instance, field=WEBHOOK_TOKEN
                )
            except (InvalidTag, ValueError):
                return "webhookUrlToken cannot be decrypted with the server keys"
            if token:
                headers["Authorization"] = f"Bearer {token}"
        if self.config.signing_secret:
            headers[SIGNATURE_HEADER] = sign(self.config.signing_secret, body)
        try:
            # Resolved and checked once; the connection goes to exactly these addresses.
            target = await self.config.targets.check(claimed.url)
        except TargetRefused as exc:
            return str(exc)
        error = await self._send(target, claimed.item.id_instance, body, headers)
        if error is not None and not target.public:
            # Refused, closed, silent or answering: one text for them all, so a partner
            # cannot map the open ports of the operator's own networks through dead letters.
            # The operator's log keeps the detail.
            log.info("delivery to non-public %s:%s failed: %s", target.host, target.port, error)
            return NON_PUBLIC_FAILURE
        return error

    async def _send(
        self, target: Target, key: int, body: bytes, headers: dict[str, str]
    ) -> str | None:
        timeout = self.config.retry.timeout_s
        try:
            response = await self.http.post(
                target, key=key, content=body, headers=headers, timeout=timeout
            )
        except TargetRefused as exc:
            return str(exc)
        except httpx.TimeoutException:
            return f"no answer within {timeout:g} s"
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: {exc}"
        if response.status_code != 200:
            # A redirect is a failure like any other answer: its Location is never fetched.
            return f"HTTP {response.status_code}"
        return None

    async def _renew(self) -> None:
        """Keep the claims of deliveries in flight alive (a slow webhook may take minutes)."""
        while True:
            await asyncio.sleep(self.config.claim_hold_s / 3)
            ids = [*self._inflight.values(), *self._finished]
            if not ids:
                continue
            try:
                async with self.db.transaction() as session:
                    await repo.renew_claims(
                        session, worker=self.id, ids=ids, until=now_ms() + self.hold_ms
                    )
            except Exception:
                if being_cancelled():
                    raise
                log.exception("renewing delivery claims failed")

    async def _maintain(self) -> None:
        while True:
            try:
                now = now_ms()
                async with self.db.transaction() as session:
                    expired = await repo.expire(
                        session, older_than=now - self.config.retention_ms, now=now
                    )
                    await repo.purge_dead(session, older_than=now - self.config.dead_retention_ms)
                if expired:
                    log.warning("%d notifications expired undelivered (now dead letters)", expired)
            except Exception:
                if being_cancelled():
                    raise
                log.exception("notification maintenance failed")
            await asyncio.sleep(_MAINTENANCE_S)


def sign(secret: str, body: bytes, *, at: int | None = None) -> str:
    """``t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>." + body>``, as X-Fleetgate-Signature."""
    t = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{t}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"
