"""Screenshots of the console's main pages for the docs: ``make screenshots``.

Starts a live server on a throwaway SQLite database (tests/support.py), fills it through the
public APIs (a partner, a few instances, one linked to a sandbox phone, a short chat), and has
Debian's Chromium (the browser tests' set-up, never a downloaded one) photograph the pages into
the folder given (default docs/console/).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

import httpx
from playwright.async_api import Page, async_playwright

from fleetgate.context import Context
from fleetgate.services import partners
from tests.support import Instance, LiveServer, authorize, live_server, make_settings, sqlite_url

CHROMIUM = "/usr/bin/chromium"
VIEWPORT = {"width": 1280, "height": 900}
WAIT_MS = 15_000


async def _fill(server: LiveServer) -> tuple[str, Instance, Instance]:
    """A partner with three instances: one linked, with a chat; the token and two of them."""
    ctx = Context.from_settings(server.settings)
    async with ctx.db.transaction() as session:
        _, token = await partners.create_partner(session=session, name="acme")
    await ctx.db.dispose()
    auth = {"Authorization": f"Bearer {token}"}
    made: list[Instance] = []
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as client:
        for name in ("Front desk", "Support line", "Deliveries"):
            r = await client.post("/console/api/instances", json={"name": name}, headers=auth)
            r.raise_for_status()
            body = r.json()
            made.append(Instance(body["idInstance"], body["apiTokenInstance"], token))
        linked = made[0]
        await authorize(client, linked, "79001234567")
        r = await client.post(
            "/sandbox/phones/79007654321/messages",
            json={"chatId": "79001234567@c.us", "message": "Hello, is my order on its way?"},
            headers=auth,
        )
        r.raise_for_status()
        r = await client.post(
            linked.url("sendMessage"),
            json={"chatId": "79007654321@c.us", "message": "Yes, it arrives tomorrow."},
        )
        r.raise_for_status()
    return token, linked, made[1]


async def _sign_in(page: Page, url: str, token: str) -> None:
    await page.goto(url + "/console")
    await page.fill("#token", token)
    await page.click("#signinForm button")
    await page.locator("#instances .badge.state-authorized").wait_for(timeout=WAIT_MS)


async def shoot(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    shots: list[Path] = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = make_settings(Path(tmp) / "data", sqlite_url(Path(tmp)))
        with live_server(settings) as server:
            token, linked, waiting = await _fill(server)
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = await browser.new_page(viewport=VIEWPORT)
                await _sign_in(page, server.url, token)
                await page.locator("#instances .badge.state-notAuthorized").first.wait_for()
                shots.append(folder / "instances.png")
                await page.screenshot(path=shots[-1], full_page=True)

                await page.goto(f"{server.url}/console/instances/{waiting.id}")
                await page.locator("#qr[src^='data:image/png']").wait_for(timeout=WAIT_MS)
                shots.append(folder / "instance-qr.png")
                await page.screenshot(path=shots[-1])

                await page.goto(f"{server.url}/console/instances/{linked.id}")
                await page.locator("#state.state-authorized").wait_for(timeout=WAIT_MS)
                await page.fill("#chatWith", "79007654321")
                await page.click("#showChat")
                await page.locator("#chat li").nth(1).wait_for(timeout=WAIT_MS)
                shots.append(folder / "instance.png")
                await page.screenshot(path=shots[-1], full_page=True)

                # The sandbox section, as the waiting instance's page links to it: its QR picked,
                # and the contact phone of the chat above showing its conversation.
                await page.goto(f"{server.url}/console/sandbox?instance={waiting.id}")
                await page.locator("#qr img").wait_for(timeout=WAIT_MS)
                await page.fill("#fromPhone", "79007654321")
                await page.dispatch_event("#fromPhone", "change")
                await page.fill("#toPhone", "79001234567")
                await page.locator("#inbox .msg").nth(1).wait_for(timeout=WAIT_MS)
                shots.append(folder / "sandbox.png")
                await page.screenshot(path=shots[-1], full_page=True)
                await browser.close()
    return shots


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console")
    for path in asyncio.run(shoot(folder)):
        print(path)


if __name__ == "__main__":
    main()
