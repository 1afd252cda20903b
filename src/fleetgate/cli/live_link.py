"""Step 2 of `fleetgate whatsapp check`: show the person a way to link the account.

A pairing code (getAuthorizationCode) is kept fresh: it lasts about 2.5 minutes, and a new one
is shown when it runs out. A QR (qr) is kept current in a PNG file, replaced whole, since
WhatsApp changes it about every 20 s. The state loop that waits for `authorized` is the
caller's; this only acts when the instance shows notAuthorized.
"""

from __future__ import annotations

import base64
import binascii
import os
import time
from pathlib import Path

from fleetgate.cli.live_client import CheckFailed, InstanceApi, body_of, describe, say
from fleetgate.domain.instances import State

# A pairing code lives about 150 s; a new one is asked for a little before that.
CODE_LIFE_S = 140.0
# WhatsApp may hold a pairing request until its login window opens (up to 30 s in the worker).
PAIRING_READ_S = 60.0
# After an "ask again later" answer the next pairing request waits this long: each one is a
# request to WhatsApp. The QR is read every QR_POLL_S, as GREEN-API advises.
CODE_RETRY_S = 5.0
QR_POLL_S = 2.0
# GREEN-API's texts for the "ask again later" answers of getAuthorizationCode.
TRY_LATER = ("instance in starting process try later", "instance account already authorized")


class Linker:
    """A pairing code kept fresh for ``pair_phone``, or the QR image kept current in
    ``qr_file``; the reason linking failed, when it did."""

    def __init__(
        self,
        api: InstanceApi,
        pair_phone: str | None,
        qr_file: Path | None,
        *,
        timeout: float,
        deadline: float,
    ) -> None:
        self.api = api
        self.pair_phone = pair_phone
        self.qr_file = qr_file
        self.timeout = timeout
        self.deadline = deadline
        self.code_at: float | None = None
        self.qr: bytes | None = None
        self.next_ask = 0.0  # time.monotonic() of the next pairing request or QR read
        self.last = ""

    def step(self) -> None:
        """Called while the instance is notAuthorized: show a code or a QR if one is due."""
        if self.pair_phone is None and self.qr_file is None:
            raise CheckFailed(
                "the instance is not linked: pass --pair-phone PHONE (a pairing code) or "
                "--qr-file PATH (a QR image to scan)"
            )
        if time.monotonic() < self.next_ask:
            return
        if self.pair_phone is not None:
            if self.code_at is None or time.monotonic() - self.code_at > CODE_LIFE_S:
                self._code(self.pair_phone)
        elif self.qr_file is not None:
            self.next_ask = time.monotonic() + QR_POLL_S
            self._qr(self.qr_file)

    def _code(self, phone: str) -> None:
        r = self.api.request(
            "POST",
            "getAuthorizationCode",
            json={"phoneNumber": int(phone)},
            deadline=self.deadline,
            read_s=PAIRING_READ_S,
        )
        body = body_of(r)
        if r.status_code != 200 or not isinstance(body.get("code"), str):
            self.last = f"getAuthorizationCode answered {describe(r)}"
            if r.status_code == 400 and body.get("description") in TRY_LATER:
                # Not ready yet, or linked meanwhile: the state loop sees which.
                self.next_ask = time.monotonic() + CODE_RETRY_S
                return
            raise CheckFailed(self.last)
        again = "a new " if self.code_at is not None else ""
        self.code_at = time.monotonic()
        say(
            f"      {again}pairing code: {body['code']}  (on the phone +{phone}: WhatsApp > "
            "Linked devices > Link a device > Link with phone number instead, then type it; it "
            "lasts about 2.5 min and a new one is shown when it runs out)"
        )

    def _qr(self, path: Path) -> None:
        body = self.api.json("GET", "qr", deadline=self.deadline)
        if not isinstance(body, dict) or body.get("type") != "qrCode":
            self.last = f"qr answered {body!r}"
            return
        try:
            png = base64.b64decode(str(body.get("message")), validate=True)
        except binascii.Error:
            raise CheckFailed("qr answered a message that is not base64") from None
        if png == self.qr:
            return
        write_atomically(path, png)
        if self.qr is None:
            say(
                f"      QR code written to {path}: open it and scan it with WhatsApp > Linked "
                "devices > Link a device (it changes about every 20 s; the file follows)"
            )
        else:
            say(f"      QR code refreshed in {path}")
        self.qr = png

    def why_not(self, state: str) -> str:
        """Why the account is still not linked at the deadline, in the person's terms."""
        waited = f"not linked within {self.timeout:g} s (state {state})"
        if state in (State.STARTING, State.SLEEP_MODE):
            return (
                f"{waited}: the instance's engine session never showed a way to link; is "
                "the server's runner up, and is its engine installed (server log)?"
            )
        if self.code_at is not None:
            return f"{waited}: the pairing code was not typed on +{self.pair_phone}"
        if self.qr is not None:
            return f"{waited}: the QR code in {self.qr_file} was not scanned"
        return f"{waited}: no pairing code or QR came ({self.last or 'no answer yet'})"


def write_atomically(path: Path, data: bytes) -> None:
    """Replace the file whole, so that an image viewer never shows half a QR."""
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    except OSError as exc:
        raise CheckFailed(f"cannot write the QR image to {path}: {exc.strerror}") from None
