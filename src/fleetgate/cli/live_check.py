"""`fleetgate whatsapp check`: prove, step by step, that a real WhatsApp account works through a
running fleetgate server: it links, sends, gets receipts and receives.

Tests cannot reach WhatsApp, so a person with a phone runs this against a live server. It
speaks only the GREEN-API wire over HTTP, as a partner's own client would, so a pass means the
whole path works: API, runner, engine, worker, WhatsApp and back. docs/live-check.md says what
each step proves and what its failures mean.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer

from fleetgate.cli.live_client import CheckFailed, InstanceApi, PartnerApi, Wire, describe, say
from fleetgate.cli.live_link import Linker
from fleetgate.cli.live_queue import QueueReader
from fleetgate.domain.instances import State
from fleetgate.ids import is_phone
from fleetgate.settings import HttpSettings

_HTTP = HttpSettings()
DEFAULT_URL = f"http://{_HTTP.host}:{_HTTP.port}"
STEPS = ("server and instance", "linked", "send", "receipt", "receive")
# What the check needs of an instance: notifications polled (no webhook), receipts and
# incoming messages switched on. A created instance gets them; an existing one must have them.
NEEDED_SETTINGS = {"webhookUrl": "", "outgoingWebhook": "yes", "incomingWebhook": "yes"}
# getStateInstance is limited to one call a second per instance (docs/rate-limits.md).
POLL_S = 1.0
CLEANUP_S = 30.0
# States in which the account cannot pass: WhatsApp decided so.
_REFUSED: dict[str, str] = {
    State.BLOCKED: "WhatsApp banned this account",
    State.YELLOW_CARD: "WhatsApp suspended sending from this account",
}

whatsapp_app = typer.Typer(no_args_is_help=True, help="Check real WhatsApp accounts.")


@dataclass(frozen=True)
class Options:
    """What the person asked the check to do (validated by the command)."""

    url: str
    partner_token: str | None
    instance: int | None
    token: str | None
    to: str
    pair_phone: str | None
    qr_file: Path | None
    timeout: float
    keep: bool
    fix_settings: bool


class LiveCheck:
    """The steps, run in order; each one has ``timeout`` seconds and stops the run if it fails."""

    def __init__(self, options: Options, wire: Wire) -> None:
        self.o = options
        self.wire = wire
        self.partner = PartnerApi(wire, options.partner_token) if options.partner_token else None
        self.api: InstanceApi | None = None
        self.created_token = ""
        self.linked_phone = ""
        self.queue: QueueReader | None = None
        self.state = ""
        self.failed_at = 0

    def run(self) -> bool:
        """Every step, each printed as it passes or fails, then the summary; True if all passed."""
        mode = "a new instance" if self.partner else f"instance {self.o.instance}"
        say(
            f"fleetgate whatsapp check: {mode} at {self.wire.base_url}; each step waits up to "
            f"{self.o.timeout:g} s"
        )
        steps = (self.server, self.link, self.send, self.receipt, self.receive)
        for number, (title, step) in enumerate(zip(STEPS, steps, strict=True), 1):
            try:
                detail = step(time.monotonic() + self.o.timeout)
            except CheckFailed as exc:
                self.failed_at = number
                say(f"FAIL {number}/{len(STEPS)} {title}: {self.wire.redact(str(exc))}")
                break
            say(f"PASS {number}/{len(STEPS)} {title}: {detail}")
        self.summary()
        return self.failed_at == 0

    def _api(self) -> InstanceApi:
        assert self.api is not None, "step 1 sets the instance"
        return self.api

    # Step 1 -------------------------------------------------------------------------------

    def server(self, deadline: float) -> str:
        health = self.wire.once("GET", "/health")
        if health.status_code != 200:
            raise CheckFailed(
                f"the server at {self.wire.base_url} answered {describe(health)} on /health: "
                "is it fleetgate, and is its database reachable?"
            )
        if self.partner is not None:
            created = self.partner.call(
                "createInstance",
                {"name": "fleetgate live check", **NEEDED_SETTINGS},
                deadline=deadline,
            )
            id_instance, token = created.get("idInstance"), created.get("apiTokenInstance")
            if not isinstance(id_instance, int) or not isinstance(token, str):
                raise CheckFailed(f"createInstance answered no instance: keys {sorted(created)}")
            self.created_token = token
            self.api = InstanceApi(self.wire, id_instance, token)
            say(
                f"      created instance {self.api.id}; it runs on its partner's engine, which "
                f"the wire does not show: on the server, `fleetgate instance show {self.api.id}` "
                "prints it (a partner made with `fleetgate partner create NAME --engine "
                "whatsapp` gets whatsapp)"
            )
        else:
            assert self.o.instance is not None and self.o.token is not None
            self.api = InstanceApi(self.wire, self.o.instance, self.o.token)
            self._settings_fit(deadline)
        self.state = self._state(deadline)
        return f"instance {self.api.id} answers (state {self.state})"

    def _settings_fit(self, deadline: float) -> None:
        """An existing instance must hand its notifications to polling; fix it if allowed."""
        api = self._api()
        current = api.json("GET", "getSettings", deadline=deadline)
        wrong = {k: v for k, v in NEEDED_SETTINGS.items() if current.get(k) != v}
        if not wrong:
            return
        listed = ", ".join(f"{k}={v!r}" for k, v in wrong.items())
        if not self.o.fix_settings:
            raise CheckFailed(
                f"the check polls notifications, so it needs {listed} (setSettings); run it "
                "again with --fix-settings to set them, or use --partner-token for a new instance"
            )
        api.json("POST", "setSettings", json=wrong, deadline=deadline)
        say(f"      set {listed} on instance {api.id} (they stay so)")

    def _state(self, deadline: float) -> str:
        answer = self._api().json("GET", "getStateInstance", deadline=deadline)
        state = answer.get("stateInstance") if isinstance(answer, dict) else None
        return str(state) if state else State.STARTING.value

    # Step 2 -------------------------------------------------------------------------------

    def link(self, deadline: float) -> str:
        o = self.o
        linker = Linker(self._api(), o.pair_phone, o.qr_file, timeout=o.timeout, deadline=deadline)
        state = self.state  # step 1's answer: getStateInstance allows one call a second
        while state != State.AUTHORIZED:
            if state in _REFUSED:
                raise CheckFailed(f"{_REFUSED[state]} (state {state})")
            if state == State.NOT_AUTHORIZED:
                linker.step()
            if time.monotonic() + POLL_S > deadline:
                raise CheckFailed(linker.why_not(state))
            time.sleep(POLL_S)
            state = self._state(deadline)
        answer = self._api().json("GET", "getWaSettings", deadline=deadline)
        self.linked_phone = str(answer.get("phone") or "")
        return f"authorized as +{self.linked_phone}"

    # Step 3 -------------------------------------------------------------------------------

    def send(self, deadline: float) -> str:
        if self.linked_phone == self.o.to:
            raise CheckFailed(
                "--to is the linked account itself: write to another phone, whose receipts "
                "and reply the check can see"
            )
        text = (
            f"fleetgate live check {secrets.token_hex(3)}: a test message sent through the "
            "WhatsApp API. Please reply with any text."
        )
        body = {"chatId": f"{self.o.to}@c.us", "message": text}
        unix_now = time.time()
        answer = self._api().json("POST", "sendMessage", json=body, deadline=deadline)
        id_message = answer.get("idMessage") if isinstance(answer, dict) else None
        if not isinstance(id_message, str) or not id_message:
            raise CheckFailed(f"sendMessage answered no idMessage: {answer!r}")
        self.queue = QueueReader(self._api(), to=self.o.to, id_message=id_message, since=unix_now)
        return f"queued for +{self.o.to} as idMessage {id_message}"

    # Step 4 -------------------------------------------------------------------------------

    def receipt(self, deadline: float) -> str:
        queue = self._queue()
        while not queue.delivered():
            if time.monotonic() >= deadline:
                raise CheckFailed(queue.why_no_receipt(self.o.timeout))
            queue.pump(deadline)
        return queue.statuses_text()

    def _queue(self) -> QueueReader:
        assert self.queue is not None, "step 3 sets the queue reader"
        return self.queue

    # Step 5 -------------------------------------------------------------------------------

    def receive(self, deadline: float) -> str:
        queue = self._queue()
        if queue.reply is None:
            say(
                f"      now reply to the check's message from the phone +{self.o.to}, with "
                f"any text (waiting up to {self.o.timeout:g} s)"
            )
        while queue.reply is None:
            if time.monotonic() >= deadline:
                raise CheckFailed(
                    f"no message from +{self.o.to} within {self.o.timeout:g} s (messages "
                    "from other chats are listed above as ignored; a chat shown as <number>@lid "
                    "is a contact WhatsApp did not name by phone)"
                )
            queue.pump(deadline)
        return f"from +{self.o.to}: {queue.reply}"

    # Step 6 -------------------------------------------------------------------------------

    def summary(self) -> None:
        if self.failed_at == 0:
            queue = self._queue()
            say(
                f"summary: PASSED, all {len(STEPS)} steps: instance {self._api().id}, linked as "
                f"+{self.linked_phone}, wrote to +{self.o.to} (statuses "
                f"{', '.join(queue.statuses)}) and got the reply"
            )
            return
        rest = range(self.failed_at + 1, len(STEPS) + 1)
        after = f"; steps {rest[0]}-{rest[-1]} not run" if len(rest) > 1 else ""
        after = f"; step {rest[0]} not run" if len(rest) == 1 else after
        say(f"summary: FAILED at step {self.failed_at} ({STEPS[self.failed_at - 1]}){after}")

    def cleanup(self) -> None:
        """Remove the instance the check created, unless it was asked to keep it."""
        if self.api is None or not self.created_token:
            return
        if self.o.keep:
            say(f"kept instance {self.api.id}; its apiTokenInstance: {self.created_token}")
            return
        assert self.partner is not None
        deadline = time.monotonic() + CLEANUP_S
        try:
            if self.linked_phone:  # unlink the device from the phone, as the docs advise
                self.api.json("GET", "logout", deadline=deadline)
            self.partner.call(
                "deleteInstanceAccount", {"idInstance": self.api.id}, deadline=deadline
            )
        except CheckFailed as exc:
            say(f"warning: instance {self.api.id} was not deleted: {self.wire.redact(str(exc))}")
            return
        unlinked = "logged out and " if self.linked_phone else ""
        say(f"instance {self.api.id} {unlinked}deleted (--keep keeps it)")


def _phone(value: str | None, option: str) -> str | None:
    if value is None:
        return None
    digits = value.removeprefix("+")
    if not is_phone(digits):
        raise typer.BadParameter("7 to 15 digits with the country code", param_hint=option)
    return digits


@whatsapp_app.command("check")
def check(
    to: Annotated[str, typer.Option(help="The phone to write to and get a reply from (digits).")],
    url: Annotated[str, typer.Option(help="Base URL of the running server.")] = DEFAULT_URL,
    partner_token: Annotated[
        str | None,
        typer.Option(
            envvar="FLEETGATE_CHECK_PARTNER_TOKEN",
            help="Create a new instance with this partner token (see docs/live-check.md).",
        ),
    ] = None,
    instance: Annotated[int | None, typer.Option(help="Check this existing idInstance.")] = None,
    token: Annotated[
        str | None,
        typer.Option(envvar="FLEETGATE_CHECK_TOKEN", help="apiTokenInstance of --instance."),
    ] = None,
    pair_phone: Annotated[
        str | None, typer.Option(help="Link by pairing code, typed on this phone (digits).")
    ] = None,
    qr_file: Annotated[
        Path | None, typer.Option(help="Link by QR: keep the current QR image (PNG) here.")
    ] = None,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds each step may take.")] = 300.0,
    keep: Annotated[
        bool, typer.Option("--keep", help="Keep the instance the check created (prints its token).")
    ] = False,
    fix_settings: Annotated[
        bool,
        typer.Option("--fix-settings", help="Set the notification settings the check needs."),
    ] = False,
) -> None:
    """Link a real account, send, get receipts, receive: each step printed; exit 0 if all pass."""
    if (partner_token is None) == (instance is None):
        raise typer.BadParameter("give either --partner-token or --instance with --token")
    if instance is not None and token is None:
        raise typer.BadParameter("--instance needs --token", param_hint="--token")
    if pair_phone is not None and qr_file is not None:
        raise typer.BadParameter("give --pair-phone or --qr-file, not both")
    options = Options(
        url=url,
        partner_token=partner_token,
        instance=instance,
        token=token,
        to=_phone(to, "--to") or "",
        pair_phone=_phone(pair_phone, "--pair-phone"),
        qr_file=qr_file,
        timeout=timeout,
        keep=keep,
        fix_settings=fix_settings,
    )
    wire = Wire(url)
    live = LiveCheck(options, wire)
    passed = False
    try:
        passed = live.run()
    except KeyboardInterrupt:
        say("interrupted")
        raise typer.Exit(130) from None
    finally:
        live.cleanup()
        wire.close()
    raise typer.Exit(0 if passed else 1)
