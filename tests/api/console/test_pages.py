"""The console's pages: templates render with the security headers, assets are served."""

from __future__ import annotations

import re

import httpx
import pytest

from fleetgate.api.console.pages import CONTENT_SECURITY_POLICY, STATIC
from tests.api.test_sandbox_page import assert_hardened, routed


def test_the_policy_allows_no_inline_code_and_no_other_origin() -> None:
    directives = dict(d.strip().split(" ", 1) for d in CONTENT_SECURITY_POLICY.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe" not in CONTENT_SECURITY_POLICY and "http" not in CONTENT_SECURITY_POLICY


async def test_the_instances_page_renders_with_its_scripts_and_the_headers(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/console")
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert_hardened(r)
    page = r.text
    assert f'<script src="{STATIC}/console.js" defer></script>' in page
    assert f'<script src="{STATIC}/instances.js" defer></script>' in page
    assert 'href="/console/sandbox"' in page  # the console's navigation reaches its sandbox
    # No inline script or style anywhere: the policy would block it.
    assert "<script>" not in page and "<style" not in page and "style=" not in page


async def test_an_instance_page_names_its_instance(client: httpx.AsyncClient) -> None:
    r = await client.get("/console/instances/1101000001")
    assert r.status_code == 200
    assert_hardened(r)
    assert 'data-id="1101000001"' in r.text
    assert f"{STATIC}/instance.js" in r.text
    # Linking a phone of the sandbox network is one click away, with this instance picked.
    assert 'href="/console/sandbox?instance=1101000001"' in r.text


@pytest.mark.parametrize("given", ["<b>bold", "12ab", '"><img src=x onerror=alert(1)>'])
async def test_a_malformed_instance_id_is_a_404_page_that_shows_it_as_text(
    client: httpx.AsyncClient, given: str
) -> None:
    r = await client.get("/console/instances/" + httpx.URL(given).raw_path.decode())
    assert r.status_code == 404
    assert_hardened(r)
    assert "<b>" not in r.text and "<img" not in r.text
    if "<" in given:
        assert "&lt;" in r.text  # autoescaped, not dropped


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("console.js", "text/javascript"),
        ("instances.js", "text/javascript"),
        ("instance.js", "text/javascript"),
        ("console.css", "text/css"),
    ],
)
async def test_the_assets_are_served_from_the_package(
    client: httpx.AsyncClient, name: str, kind: str
) -> None:
    r = await client.get(f"{STATIC}/{name}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(kind)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert len(r.content) > 100


async def test_an_unknown_asset_is_404(client: httpx.AsyncClient) -> None:
    r = await client.get(f"{STATIC}/missing.js")
    assert r.status_code == 404


async def test_scripts_put_text_in_the_page_only_as_text(client: httpx.AsyncClient) -> None:
    """The scripts never parse strings as markup (the first wall; the policy is the second)."""
    for name in ("console.js", "instances.js", "instance.js"):
        source = (await client.get(f"{STATIC}/{name}")).text
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in source, (name, sink)
        # The partner token is never put in a URL: only in the Authorization header.
        assert "token=" not in source and "?token" not in source


# api("VERB", "<path>" | `<path>`...), call("VERB", "<GREEN-API method>"...), stream(<path>...)
_API = re.compile(r'\bapi\(\s*"([A-Z]+)",\s*["`]([^"`]+)["`]')
_CALL = re.compile(r'\bcall\(\s*"([A-Z]+)",\s*"([A-Za-z]+)"')
_STREAM = re.compile(r'\bstream\(\s*["`]([^"`]+)["`]')
_JS_PARAM = re.compile(r"\$\{[^}]*\}")


def _calls(script: str) -> list[tuple[str, str]]:
    """(HTTP method, path with each ``${...}`` as ``\\0``) of every request a script makes."""
    found = [(verb, path) for verb, path in _API.findall(script)]
    found += [
        (verb, f"/waInstance${{ID}}/{name}/${{token}}") for verb, name in _CALL.findall(script)
    ]
    return [(verb, _JS_PARAM.sub("\0", path.split("?", 1)[0])) for verb, path in found]


async def test_every_request_of_the_scripts_is_a_route_with_that_method(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()["paths"]
    seen: set[tuple[str, str]] = set()
    fetches = 0
    for name in ("console.js", "instances.js", "instance.js"):
        script = (await client.get(f"{STATIC}/{name}")).text
        calls = _calls(script)
        fetches += script.count("fetch(")
        # Every request goes through api(), call() or stream() (each use is read here), but
        # the sign-in check, a plain GET /instances.
        assert len(calls) == len(re.findall(r"\b(?:api|call)\(\s*[\"`]", script)), name
        for verb, path in calls:
            assert routed(spec, verb, path), (name, verb, path)
        seen.update(calls)
        # The event streams are left out of the schema (endless answers): they are these two.
        streams = {_JS_PARAM.sub("\0", p.split("?", 1)[0]) for p in _STREAM.findall(script)}
        assert streams <= {"/console/api/events", "/console/api/instances/\0/events"}, name
        assert len(streams) == len(re.findall(r"\bstream\(\s*[\"`]", script)), name
    # The three fetch() calls: in api(), in stream() and the sign-in check.
    assert fetches == 3
    assert routed(spec, "GET", "/instances")
    # The ones the console relies on most, so a change of the parsing cannot pass unseen.
    assert ("GET", "/instances") in seen
    assert ("POST", "/waInstance\0/setSettings/\0") in seen
    assert ("POST", "/console/api/instances") in seen
    assert ("POST", "/admin/dead-letters/replay") in seen
