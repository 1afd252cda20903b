"""`fleetgate whatsapp check` run as the console script against a live server's sandbox: the
test plays the phones, typing the pairing code or scanning the QR the command shows and
replying as the contact it wrote to, once the command asks."""

from __future__ import annotations

import re
import socket
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from fleetgate.cli.main import app
from tests.factories import new_partner_token
from tests.processes import Cli, base_env, words
from tests.sending import bearer, new_phone, phone_sends
from tests.support import Instance, LiveServer, fresh_server, until, wait_for_state

# Each step of the command waits up to this; the test's own waits are bounded by WAIT_S.
STEP_S = "15"
WAIT_S = 30.0
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
async def server(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LiveServer]:
    """One server on SQLite, rate limits on as deployed. The command speaks only HTTP, so a
    second database would test the server again (its own tests run on both), not the command."""
    async with fresh_server("sqlite", tmp_path_factory.mktemp("live-check")) as srv:
        yield srv


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=WAIT_S) as c:
        yield c


@pytest.fixture
async def partner(server: LiveServer) -> str:
    """A new partner's token (the sandbox network is shared: its phones are its own)."""
    return await new_partner_token(server.settings)


async def new_instance(client: httpx.AsyncClient, partner: str, **settings: str) -> Instance:
    r = await client.post(f"/partner/createInstance/{partner}", json=settings)
    assert r.status_code == 200, r.text
    return Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], partner)


class Check:
    """One `fleetgate whatsapp check` in the background, its stdout read as it grows."""

    def __init__(self, proc: subprocess.Popen[bytes], out: Path) -> None:
        self.proc = proc
        self.out = out

    def text(self) -> str:
        return self.out.read_text()

    async def line(self, pattern: str) -> re.Match[str]:
        """The first match of ``pattern`` once the command printed it."""
        found: list[re.Match[str]] = []

        async def printed() -> bool:
            match = re.search(pattern, self.text())
            found[:] = [match] if match else []
            return bool(found) or self.proc.poll() is not None

        await until(printed, f"the check prints {pattern!r}", timeout=WAIT_S)
        assert found, f"the check ended without printing {pattern!r}:\n{self.text()}"
        return found[0]

    async def exit_code(self) -> int:
        async def ended() -> bool:
            return self.proc.poll() is not None

        await until(ended, "the check ends", timeout=WAIT_S)
        return self.proc.returncode


@contextmanager
def running(tmp_path: Path, *args: str, partner_token: str = "") -> Iterator[Check]:
    """The command with these arguments; a partner token goes in through its variable."""
    cli = Cli("any", tmp_path / "data", base_env(tmp_path / "data"))
    env = {"FLEETGATE_CHECK_PARTNER_TOKEN": partner_token} if partner_token else {}
    with cli.background("whatsapp", "check", *args, log_name="check", env=env) as proc:
        yield Check(proc, tmp_path / "check.stdout")


def run(tmp_path: Path, *commands: tuple[str, ...]) -> list[subprocess.CompletedProcess[str]]:
    cli = Cli("any", tmp_path / "data", base_env(tmp_path / "data"))
    return cli.run_many([("whatsapp", "check", *args) for args in commands])


async def reply_as_contact(
    client: httpx.AsyncClient,
    check: Check,
    partner: str,
    contact: str,
    account: str,
    stranger: str | None = None,
) -> None:
    """Once the receipt passed, the contact reads the chat; asked to, it replies (after a
    message from ``stranger``, if given, which the check must pass over)."""
    await check.line(r"PASS 4/5 receipt: sent after [0-9.]+ s, delivered after")
    r = await client.post(
        f"/sandbox/phones/{contact}/read",
        json={"chatId": f"{account}@c.us"},
        headers=bearer(partner),
    )
    assert r.status_code == 200, r.text
    await check.line(rf"now reply to the check's message from the phone \+{contact}")
    if stranger is not None:
        await phone_sends(client, partner, stranger, account, "not the reply")
    await phone_sends(client, partner, contact, account, "hello from the contact")


def assert_all_passed(out: str, account: str, contact: str) -> None:
    for number, title in enumerate(["server and instance", "linked", "send", "receipt"], 1):
        assert f"PASS {number}/5 {title}: " in out, out
    assert f"PASS 2/5 linked: authorized as +{account}\n" in out, out
    assert re.search(rf"PASS 3/5 send: queued for \+{contact} as idMessage [0-9A-F]{{20}}\n", out)
    assert "      status read (" in out, out  # the contact read the chat after step 4
    assert f"PASS 5/5 receive: from +{contact}: textMessage 'hello from the contact'\n" in out
    assert "summary: PASSED, all 5 steps" in out, out
    assert "statuses sent, delivered, read" in out, out


async def test_check_passes_linking_by_pairing_code_and_keeps_its_instance(
    server: LiveServer, client: httpx.AsyncClient, partner: str, tmp_path: Path
) -> None:
    account, contact = new_phone(), new_phone()
    args = ("--url", server.url, "--to", contact, "--pair-phone", account, "--keep")
    with running(tmp_path, *args, "--timeout", STEP_S, partner_token=partner) as check:
        code = (await check.line(r"pairing code: (\S+)  \(on the phone \+" + account)).group(1)
        r = await client.post(
            f"/sandbox/phones/{account}/link", json={"code": code}, headers=bearer(partner)
        )
        assert r.status_code == 200, r.text
        stranger = new_phone()
        await reply_as_contact(client, check, partner, contact, account, stranger)
        assert await check.exit_code() == 0, check.text()
    out = check.text()
    assert_all_passed(out, account, contact)
    assert f"      ignored incomingMessageReceived from {stranger}@c.us\n" in out, out
    kept = re.search(r"kept instance ([0-9]{10}); its apiTokenInstance: ([0-9a-f]{50})\n", out)
    assert kept, out
    assert partner not in out
    # The kept instance is the one linked, and its printed token works.
    instance = Instance(int(kept.group(1)), kept.group(2), partner)
    await wait_for_state(client, instance, "authorized")


async def test_check_passes_linking_by_qr_and_deletes_its_instance(
    server: LiveServer, client: httpx.AsyncClient, partner: str, tmp_path: Path
) -> None:
    account, contact = new_phone(), new_phone()
    qr_file = tmp_path / "qr.png"
    args = ("--url", server.url, "--to", contact, "--qr-file", str(qr_file))
    with running(tmp_path, *args, "--timeout", STEP_S, partner_token=partner) as check:
        id_instance = (await check.line(r"created instance ([0-9]{10})")).group(1)
        await check.line(f"QR code written to {re.escape(str(qr_file))}: open it")
        assert qr_file.read_bytes().startswith(PNG_MAGIC)
        # The phone reads the QR: the sandbox tells what the image encodes.
        qr = await client.get(f"/sandbox/instances/{id_instance}/qr", headers=bearer(partner))
        assert qr.status_code == 200, qr.text
        r = await client.post(
            f"/sandbox/phones/{account}/scan",
            json={"qr": qr.json()["qr"]},
            headers=bearer(partner),
        )
        assert r.status_code == 200, r.text
        await reply_as_contact(client, check, partner, contact, account)
        assert await check.exit_code() == 0, check.text()
    out = check.text()
    assert_all_passed(out, account, contact)
    assert f"instance {id_instance} logged out and deleted (--keep keeps it)\n" in out
    listed = (await client.get(f"/partner/getInstances/{partner}")).json()
    assert [(i["idInstance"], i["deleted"]) for i in listed] == [(int(id_instance), True)]
    assert listed[0]["apiTokenInstance"] not in out
    assert partner not in out


async def test_wrong_tokens_fail_step_one(
    server: LiveServer, client: httpx.AsyncClient, partner: str, tmp_path: Path
) -> None:
    inst = await new_instance(client, partner, outgoingWebhook="yes", incomingWebhook="yes")
    wrong = "0" * 50
    to = ("--url", server.url, "--to", new_phone())
    results = run(
        tmp_path,
        (*to, "--instance", str(inst.id), "--token", wrong),
        (*to, "--instance", "1101999999999", "--token", inst.token),
        (*to, "--partner-token", "gac." + "0" * 48),
    )
    reasons = [
        f"the server refused the token of instance {inst.id} (401 Unauthorized)",
        "the server has no instance 1101999999999 (403 Forbidden",
        "the server refused the partner token (Unauthorized): on the server, create a partner "
        "with `fleetgate partner create NAME --engine whatsapp`",
    ]
    for result, reason in zip(results, reasons, strict=True):
        assert result.returncode == 1, result
        assert f"FAIL 1/5 server and instance: {reason}" in result.stdout, result.stdout
        assert "summary: FAILED at step 1 (server and instance); steps 2-5 not run" in result.stdout
        assert inst.token not in result.stdout and wrong not in result.stdout


async def test_existing_instance_needs_polling_settings(
    server: LiveServer, client: httpx.AsyncClient, partner: str, tmp_path: Path
) -> None:
    inst = await new_instance(client, partner)  # every notification switched off
    await wait_for_state(client, inst, "notAuthorized")
    to = ("--url", server.url, "--to", new_phone(), "--instance", str(inst.id))
    # One after the other: the second changes what the first reads.
    (refused,) = run(tmp_path, (*to, "--token", inst.token))
    (fixed,) = run(tmp_path, (*to, "--token", inst.token, "--fix-settings"))
    assert refused.returncode == 1
    assert (
        "FAIL 1/5 server and instance: the check polls notifications, so it needs "
        "outgoingWebhook='yes', incomingWebhook='yes' (setSettings); run it again with "
        "--fix-settings" in refused.stdout
    ), refused.stdout
    assert fixed.returncode == 1
    assert f"set outgoingWebhook='yes', incomingWebhook='yes' on instance {inst.id}" in fixed.stdout
    assert "PASS 1/5 server and instance: " in fixed.stdout
    assert "FAIL 2/5 linked: the instance is not linked: pass --pair-phone PHONE" in fixed.stdout, (
        fixed.stdout
    )
    settings: list[httpx.Response] = []

    async def read_settings() -> bool:  # getSettings allows one call a second: the check's was
        settings[:] = [await client.get(inst.url("getSettings"))]
        return settings[0].status_code != 429

    await until(read_settings, "getSettings answers", timeout=WAIT_S)
    body = settings[0].json()
    assert (body["outgoingWebhook"], body["incomingWebhook"]) == ("yes", "yes")


async def test_linking_that_never_happens_times_out(
    server: LiveServer, client: httpx.AsyncClient, partner: str, tmp_path: Path
) -> None:
    (result,) = run(
        tmp_path,
        (
            "--url",
            server.url,
            "--partner-token",
            partner,
            "--to",
            new_phone(),
            "--pair-phone",
            new_phone(),
            "--timeout",
            "1",
        ),
    )
    assert result.returncode == 1, result
    assert re.search(
        r"FAIL 2/5 linked: not linked within 1 s \(state (starting|notAuthorized)\): ",
        result.stdout,
    ), result.stdout
    assert "summary: FAILED at step 2 (linked); steps 3-5 not run" in result.stdout
    listed = (await client.get(f"/partner/getInstances/{partner}")).json()
    assert [i["deleted"] for i in listed] == [True]
    assert f"instance {listed[0]['idInstance']} deleted (--keep keeps it)" in result.stdout


# Usage errors and an unreachable server need no phone: the command runs in this process.
USAGE_ERRORS = [
    ((), "give either --partner-token or --instance with --token"),
    (("--partner-token", "gac.x", "--instance", "1101000001"), "give either --partner-token"),
    (("--instance", "1101000001"), "--instance needs --token"),
    (
        ("--partner-token", "gac.x", "--pair-phone", "79001234567", "--qr-file", "q.png"),
        "give --pair-phone or --qr-file, not both",
    ),
    (("--partner-token", "gac.x", "--pair-phone", "12-34"), "7 to 15 digits"),
]


@pytest.mark.parametrize(("args", "message"), USAGE_ERRORS)
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    result = CliRunner().invoke(app, ["whatsapp", "check", "--to", "79001234567", *args])
    assert result.exit_code == 2, result.output
    assert message in words(result.output), result.output


def test_an_unreachable_server_fails_step_one() -> None:
    with socket.socket() as s:  # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"
    args = ["--url", url, "--to", "79001234567", "--partner-token", "gac." + "1" * 48]
    result = CliRunner().invoke(app, ["whatsapp", "check", *args])
    assert result.exit_code == 1, result.output
    assert f"FAIL 1/5 server and instance: cannot reach the server at {url} (ConnectError" in (
        result.output
    )
    assert "1" * 48 not in result.output
