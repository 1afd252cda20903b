"""The console in a real browser: Debian's Chromium, driven by Playwright.

Set up as tests/api/test_sandbox_browser.py is (its ``browser`` fixture, ``Watched`` and
``sign_in`` are used here): the system's Chromium, never a downloaded one. Every page here runs
with the network cut to 127.0.0.1: any request elsewhere is refused and recorded, and the tests
assert there was none.

The server is this module's own, whose delivery worker gives up on a webhook within seconds,
so that a dead letter appears while the test watches.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Dialog, Route

from fleetgate.api.console.pages import CONTENT_SECURITY_POLICY
from fleetgate.context import Context
from fleetgate.services import partners
from tests.api.test_sandbox_browser import WAIT_MS, Watched, browser, sign_in
from tests.delivery.hooks import FAST_DELIVERY
from tests.receiver import Receiver, running_receiver
from tests.support import Instance, LiveServer, server_fixture

__all__ = ["browser"]  # the module-scoped Chromium of the sandbox page's tests

cserver = server_fixture(
    "console",
    "A live server whose webhooks give up after seconds (dead letters come quickly).",
    delivery=FAST_DELIVERY,
    ratelimits={"enabled": False},
)
REDOC_LOGO = "https://cdn.redoc.ly/redoc/logo-mini.svg"
XSS_NAME = '<img src=x onerror="window.__pwned=1">'
XSS_TEXT = "<b>bold</b> & <script>window.__pwned=2</script>"


@pytest.fixture(scope="module")
async def cctx(cserver: LiveServer) -> AsyncIterator[Context]:
    context = Context.from_settings(cserver.settings)
    yield context
    await context.db.dispose()


@pytest.fixture
async def cclient(cserver: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=cserver.url, timeout=30) as c:
        yield c


@pytest.fixture
def receiver() -> AsyncIterator[Receiver]:
    with running_receiver() as r:
        yield r


async def _partner(ctx: Context) -> str:
    async with ctx.db.transaction() as session:
        _, token = await partners.create_partner(
            session=session, name=f"console-{secrets.token_hex(6)}"
        )
    return token


@dataclass
class Tab(Watched):
    """A watched page that also records what reached the network cut: a request the page's
    own policy refused never gets there."""

    escaped: list[str] = field(default_factory=list)


OpenPage = Callable[[str], Awaitable[Tab]]


@pytest.fixture
async def browsing(browser: Browser, cserver: LiveServer) -> AsyncIterator[BrowserContext]:
    """A browser context whose requests may only reach this server (others are cut)."""
    context = await browser.new_context()
    yield context
    await context.close()


@pytest.fixture
def open_page(browsing: BrowserContext, cserver: LiveServer) -> OpenPage:
    """Factory: a new tab on a path of the server, watched for errors, dialogs and requests."""

    async def open_tab(path: str) -> Tab:
        page = await browsing.new_page()
        watched = Tab(page, cserver.url)

        async def cut(route: Route) -> None:
            url = route.request.url
            if url.startswith(cserver.url + "/") or url.startswith("data:"):
                await route.continue_()
            else:
                watched.escaped.append(url)
                await route.abort()

        await page.route("**/*", cut)
        page.on("console", watched.on_console)
        page.on("pageerror", lambda exc: watched.console_errors.append(str(exc)))
        page.on("dialog", lambda dialog: _answer(watched, dialog))
        page.on("request", watched.on_request)
        response = await page.goto(cserver.url + path)
        assert response is not None and response.status == 200
        if path.startswith("/console"):
            headers = await response.all_headers()
            assert headers["content-security-policy"] == CONTENT_SECURITY_POLICY
            assert headers["x-content-type-options"] == "nosniff"
            assert headers["referrer-policy"] == "no-referrer"
        return watched

    return open_tab


async def _answer(watched: Watched, dialog: Dialog) -> None:
    """Confirmations are accepted (the person said yes); anything else is recorded and shut."""
    watched.dialogs.append(f"{dialog.type}: {dialog.message}")
    if dialog.type == "confirm":
        await dialog.accept()
    else:
        await dialog.dismiss()


def _phone() -> str:
    return "7902" + "".join(secrets.choice("0123456789") for _ in range(7))


def _failed_load(status: str) -> str:
    """What Chromium logs as an error for any answer of ``status`` (it cannot be silenced)."""
    return f"Failed to load resource: the server responded with a status of {status}"


def _clean(*tabs: Tab, expected: tuple[str, ...] = ()) -> None:
    """No request left 127.0.0.1, and no error was logged but the ``expected`` ones."""
    for tab in tabs:
        assert tab.foreign_requests == [], tab.foreign_requests
        assert tab.escaped == [], tab.escaped
    assert [e for tab in tabs for e in tab.console_errors] == list(expected)


async def test_a_partner_runs_an_instance_from_the_console(
    cctx: Context,
    cclient: httpx.AsyncClient,
    open_page: OpenPage,
    receiver: Receiver,
) -> None:
    partner = await _partner(cctx)
    console = await open_page("/console")
    page = console.page

    # A wrong token gets a clear message and shows nothing.
    await page.fill("#token", "not-a-token")
    await page.click("#signinForm button")
    await page.locator("#signinError", has_text="wrong or was revoked").wait_for(timeout=WAIT_MS)
    assert await page.locator("#app").is_hidden()

    await page.fill("#token", partner)
    await page.click("#signinForm button")
    await page.locator("#app").wait_for(timeout=WAIT_MS)
    assert await page.evaluate("sessionStorage.getItem('fleetgate.partnerToken')") == partner

    # Partner settings: the Z-API Client-Token goes on (shown once) and off again.
    await page.locator("#clientTokenState", has_text="no").wait_for(timeout=WAIT_MS)
    await page.click("#clientTokenOn")
    await page.locator("#clientTokenState", has_text="yes").wait_for(timeout=WAIT_MS)
    assert len(await page.text_content("#clientToken") or "") > 16
    await page.click("#clientTokenOff")
    await page.locator("#clientTokenState", has_text="no").wait_for(timeout=WAIT_MS)

    # Create an instance with settings; a hostile name stays text.
    receiver.behave("dead", fail_first=10_000)
    await page.fill("#new-name", XSS_NAME)
    await page.fill("#new-webhookUrl", receiver.hook("dead"))
    await page.select_option("#new-incomingWebhook", "yes")
    await page.click("#create")
    await page.locator("#created").wait_for(timeout=WAIT_MS)
    id_instance = int(await page.text_content("#createdLink") or "0")
    # The token shows at once; the settings are saved next (GREEN-API setSettings).
    await page.locator("#status", has_text=f"Instance {id_instance} created.").wait_for(
        timeout=WAIT_MS
    )
    token = await page.text_content("#createdToken") or ""
    instance = Instance(id_instance, token, partner)
    settings = (await cclient.get(instance.url("getSettings"))).json()
    assert settings["webhookUrl"] == receiver.hook("dead")
    assert settings["incomingWebhook"] == "yes"
    row = page.locator(f"#instances tr[data-id='{id_instance}']")
    await row.wait_for(timeout=WAIT_MS)
    assert await row.locator(".name").text_content() == XSS_NAME
    # The badge turns notAuthorized by itself (the list's event stream).
    await row.locator(".badge", has_text="notAuthorized").wait_for(timeout=WAIT_MS)

    # The instance's page: the QR shows while it is not authorized.
    await row.locator("a").click()
    await page.locator("#qr[src^='data:image/png;base64,']").wait_for(timeout=WAIT_MS)
    assert await page.text_content("#name") == XSS_NAME
    # A pairing code for a phone number (the other way to link).
    own = _phone()
    await page.fill("#pairPhone", own)
    await page.click("#pair")
    await page.wait_for_function(
        "() => document.querySelector('#pairCode').textContent.length === 8", timeout=WAIT_MS
    )

    # The page links to the console's sandbox with this instance picked. Opened in a second tab
    # (signed in there: a tab keeps its own token), a phone scans the QR; the console turns
    # authorized by itself.
    link = await page.get_attribute("#sandboxLink", "href")
    assert link == f"/console/sandbox?instance={id_instance}"
    sandbox = await open_page(link)
    await sign_in(sandbox.page, partner)
    await sandbox.page.locator("#qr img").wait_for(timeout=WAIT_MS)
    assert await sandbox.page.get_attribute("#qr img", "alt") == f"QR of {id_instance}"
    await sandbox.page.fill("#linkPhone", own)
    await sandbox.page.click("#scan")
    await page.locator("#state", has_text=re.compile("^authorized$")).wait_for(timeout=WAIT_MS)
    assert await page.text_content("#state") == "authorized"
    assert await page.text_content("#phone") == f"linked to +{own}"
    assert await page.locator("#pairing").is_hidden()

    # Send a text; it shows in the chat history, as text.
    contact = _phone()
    await page.fill("#sendTo", contact)
    await page.fill("#sendText", XSS_TEXT)
    await page.click("#send")
    await page.locator("#chat .text").first.wait_for(timeout=WAIT_MS)
    assert await page.locator("#chat .text").first.text_content() == XSS_TEXT
    assert await page.locator("#chat b:not(:has-text('→')):not(:has-text('←'))").count() == 0

    # A bad setting value: the server's error shows beside its field, nothing is saved.
    await page.fill("#setting-delaySendMessagesMilliseconds", "soon")
    await page.click("#saveSettings")
    error = page.locator("[data-error-for='delaySendMessagesMilliseconds']")
    await error.filter(has_text="must be").wait_for(timeout=WAIT_MS)
    assert "delaySendMessagesMilliseconds" in (await error.text_content() or "")
    after = (await cclient.get(instance.url("getSettings"))).json()
    assert after["delaySendMessagesMilliseconds"] == settings["delaySendMessagesMilliseconds"]

    # A contact writes; the webhook fails until it gives up: a dead letter. Replay it once the
    # receiver is back, and it arrives.
    r = await cclient.post(
        f"/sandbox/phones/{contact}/messages",
        json={"chatId": f"{own}@c.us", "message": "are you there?"},
        headers={"Authorization": f"Bearer {partner}"},
    )
    assert r.status_code == 200, r.text
    await page.click("#refreshDeadLetters")
    for _ in range(100):
        if await page.locator("#deadLetters .pick").count():
            break
        await page.wait_for_timeout(100)  # the worker gives up after FAST_DELIVERY's 3 s
        await page.click("#refreshDeadLetters")
    receiver.behave("dead")
    await page.locator("#deadLetters .pick").first.check()
    await page.click("#replay")
    await page.locator("#replayStatus", has_text="Queued again: 1.").wait_for(timeout=WAIT_MS)
    (arrived,) = await receiver.wait_for("dead", 1)
    assert arrived.body["typeWebhook"] == "incomingMessageReceived"

    # Token rotation: the new token shows once and the old one stops working.
    await page.click("#rotate")
    await page.locator("#rotated").wait_for(timeout=WAIT_MS)
    fresh = await page.text_content("#newToken") or ""
    assert fresh and fresh != token
    assert (await cclient.get(instance.url("getStateInstance"))).status_code == 401
    assert (await cclient.get(instance.url("getStateInstance", fresh))).status_code == 200

    # Delete it from the list (confirmed), then sign out.
    await page.click("header nav a[href='/console']")
    row = page.locator(f"#instances tr[data-id='{id_instance}']")
    await row.wait_for(timeout=WAIT_MS)
    await row.locator("button.delete").click()
    await row.wait_for(state="detached", timeout=WAIT_MS)
    assert (await cclient.get(instance.url("getStateInstance", fresh))).status_code != 200
    # The deleted view lists it, its name still as text.
    await page.check("#showDeleted")
    gone = page.locator(f"#instances tr.deleted[data-id='{id_instance}']")
    await gone.wait_for(timeout=WAIT_MS)
    assert await gone.locator(".name").text_content() == XSS_NAME
    assert await gone.locator(".badge").text_content() == "deleted"
    await page.click("#signout")
    await page.locator("#signin").wait_for(timeout=WAIT_MS)
    assert await page.evaluate("sessionStorage.getItem('fleetgate.partnerToken')") is None

    # Nothing hostile ran; nothing left for another origin; no errors.
    assert await page.evaluate("window.__pwned") is None
    assert [d.split(" ", 2)[:2] for d in console.dialogs] == [
        ["confirm:", "Stop"],
        ["confirm:", "Rotate"],
        ["confirm:", "Delete"],
    ]
    # Chromium logs the two refusals the test asked for: the wrong token and the bad value.
    _clean(
        console,
        sandbox,
        expected=(_failed_load("401 (Unauthorized)"), _failed_load("400 (Bad Request)")),
    )


async def test_the_policy_lets_no_code_run_but_the_console_s_own_files(
    open_page: OpenPage,
) -> None:
    """The second wall behind textContent: strings cannot become code even if they got in."""
    console = await open_page("/console")
    page = console.page
    await page.evaluate(
        """() => { const img = document.createElement("img");
                  img.setAttribute("onerror", "window.__handler = 1");
                  img.src = "/nothing.png"; document.body.append(img); }"""
    )
    # The picture failed to load (so its handler was due), yet the handler never ran.
    await page.wait_for_function("() => document.querySelector('img').complete")
    assert await page.evaluate("document.querySelector('img').naturalWidth") == 0
    assert await page.evaluate("window.__handler") is None


async def test_swagger_ui_renders_its_operations_with_the_network_cut(
    open_page: OpenPage,
) -> None:
    docs = await open_page("/docs")
    await docs.page.locator(".opblock").first.wait_for(timeout=WAIT_MS)
    assert await docs.page.locator(".opblock").count() > 100
    assert await docs.page.locator(".opblock-summary-path", has_text="/sendMessage/").count() > 0
    _clean(docs)


async def test_redoc_renders_its_operations_with_the_network_cut(open_page: OpenPage) -> None:
    docs = await open_page("/redoc")
    operations = docs.page.locator("[data-section-id^='operation/']")
    await operations.first.wait_for(timeout=WAIT_MS)
    assert await operations.count() > 100
    # ReDoc's bundle always links its maker's logo from a CDN: the page's policy refuses it
    # (Chromium says so), and here the network cut would have too.
    assert docs.escaped in ([], [REDOC_LOGO])
    assert docs.foreign_requests == [REDOC_LOGO]
    assert len(docs.console_errors) == 1
    assert REDOC_LOGO in docs.console_errors[0]
    assert "Content Security Policy" in docs.console_errors[0]
