"""/docs and /redoc work offline: every asset they name is on this origin and answers."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from fleetgate.api.docs import ASSETS
from fleetgate.app import create_app
from fleetgate.settings import Settings
from tests.support import sqlite_url

# Every URL a page names: attributes and the Swagger UI config's ``url:``.
_URLS = re.compile(r"""(?:src|href|spec-url)="([^"]+)"|url: '([^']+)'""")


def _urls(html: str) -> list[str]:
    return [a or b for a, b in _URLS.findall(html)]


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_the_page_names_only_assets_of_this_origin_and_they_answer(
    client: httpx.AsyncClient, page: str
) -> None:
    r = await client.get(page)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    urls = _urls(r.text)
    assert any(u.startswith(ASSETS + "/") and u.endswith(".js") for u in urls), urls
    assert "/openapi.json" in urls
    for url in urls:
        # Relative to this origin: no scheme, no host, no protocol-relative "//".
        assert url.startswith("/") and not url.startswith("//"), url
        got = await client.get(url)
        assert got.status_code == 200, url
        assert len(got.content) > 0, url
    # Nothing in the page text points elsewhere (fonts, CDNs, a validator service).
    assert "http://" not in r.text and "https://" not in r.text


async def test_swagger_ui_does_not_call_the_online_validator(client: httpx.AsyncClient) -> None:
    r = await client.get("/docs")
    assert '"validatorUrl": null' in r.text


async def test_an_asset_outside_the_package_is_not_served(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{ASSETS}/../core.py")
    assert r.status_code == 404
    r = await client.get(f"{ASSETS}/nothing.js")
    assert r.status_code == 404


async def test_every_reference_in_the_schema_resolves(client: httpx.AsyncClient) -> None:
    """Bodies described from models keep no ``$defs`` of their own (readers cannot reach them)."""
    doc = (await client.get("/openapi.json")).json()
    refs: list[str] = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            assert "$defs" not in node
            if isinstance(node.get("$ref"), str):
                refs.append(node["$ref"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(doc)
    schemas = doc["components"]["schemas"]
    assert refs
    for ref in refs:
        assert ref.startswith("#/components/schemas/"), ref
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    contact = doc["paths"]["/waInstance{idInstance}/sendContact/{apiTokenInstance}"]["post"]
    body = contact["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"]["contact"]["$ref"] == "#/components/schemas/Contact"


async def test_building_the_schema_leaves_the_server_answering(tmp_path: Path) -> None:
    """The first /openapi.json builds the document (about a second of work) in a thread:
    other requests are answered meanwhile, and every reader gets the same document."""
    app = create_app(Settings(data_dir=tmp_path, database_url=sqlite_url(tmp_path)))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fleetgate") as c:
        first = asyncio.create_task(c.get("/openapi.json"))
        second = asyncio.create_task(c.get("/openapi.json"))
        # One turn each: in-process there is no I/O to wait on, so a schema request runs
        # until it waits for its thread (or, built on the loop, until it is done).
        await asyncio.sleep(0)
        assert (await c.get("/docs")).status_code == 200
        assert not first.done()  # the page was served while the schema was being built
        assert (await first).json() == (await second).json()
        assert (
            "/waInstance{idInstance}/sendMessage/{apiTokenInstance}"
            in (await first).json()["paths"]
        )
