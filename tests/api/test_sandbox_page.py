"""The console's sandbox page, where a person links instances and writes as a contact."""

from __future__ import annotations

import re

import httpx

from fleetgate.api.console.pages import CONTENT_SECURITY_POLICY, STATIC

# Every call the page makes: json(`<path template>`[, { method: "<VERB>", ... }]).
_CALL = re.compile(r'json\(`([^`]+)`(?:\s*,\s*\{\s*method:\s*"([A-Z]+)")?')
_JS_PARAM = re.compile(r"\$\{[^}]*\}")
_SPEC_PARAM = re.compile(r"\{[^}]+\}")


def page_calls(script: str) -> set[tuple[str, str]]:
    """(HTTP method, path with every ``${...}`` as ``\\0``) of each API call in the script."""
    calls = set()
    for template, method in _CALL.findall(script):
        path = template.split("?", 1)[0]
        calls.add((method or "GET", _JS_PARAM.sub("\0", path)))
    return calls


def routed(spec: dict[str, dict[str, object]], method: str, path: str) -> bool:
    """Whether an OpenAPI path template takes ``path`` (``\\0`` marks a variable part) with
    ``method``; a variable part may stand for a whole segment or for the end of one."""
    for template, operations in spec.items():
        pattern = "".join(
            "[^/]+" if _SPEC_PARAM.fullmatch(part) else re.escape(part)
            for part in re.split(r"(\{[^}]+\})", template)
        )
        # A page variable fits a whole path parameter, or digits glued to a literal
        # (/waInstance${id} against /waInstance{idInstance}).
        if re.fullmatch(pattern, path.replace("\0", "1")) and method.lower() in operations:
            return True
    return False


def assert_hardened(r: httpx.Response) -> None:
    """The console's page headers (tests/api/console/test_pages.py checks its other pages)."""
    assert r.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"
    assert r.headers["x-frame-options"] == "DENY"


# The modules a script imports: import { ... } from "./<file>.js";
_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([a-z-]+\.js)";$', re.MULTILINE)
PAGE = "/console/sandbox"


async def page_scripts(client: httpx.AsyncClient) -> dict[str, str]:
    """Every script of the page, by its path: sandbox.js and the modules it imports, in turn."""
    scripts: dict[str, str] = {}
    waiting = [f"{STATIC}/sandbox.js"]
    while waiting:
        path = waiting.pop()
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/javascript"), path
        scripts[path] = r.text
        waiting += [
            f"{STATIC}/{m}" for m in _IMPORT.findall(r.text) if f"{STATIC}/{m}" not in scripts
        ]
    return scripts


async def test_page_is_served_in_the_console_with_its_script_and_style(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get(PAGE)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert_hardened(r)
    html = r.text
    for element in (
        'id="instances"',
        'id="load"',
        'id="qr"',
        'id="linkPhone"',
        'id="scan"',
        'id="send"',
        'id="file"',
        'id="sendFile"',
        'id="inbox"',
        'id="groups"',
        'id="statuses"',
        # The console's layout: its navigation, its sign-in (the one token box), its status line.
        'href="/console/sandbox"',
        'id="signinForm"',
        'id="status"',
    ):
        assert element in html, element
    assert html.count('id="token"') == 1  # the console's sign-in, not a box of the page's own
    # No inline code or style: the page's policy would refuse it.
    assert "<script>" not in html and "<style" not in html
    assert not re.search(r"\son[a-z]+\s*=|\sstyle\s*=", html, re.IGNORECASE)
    assert f'<script src="{STATIC}/console.js" defer></script>' in html
    assert f'<script type="module" src="{STATIC}/sandbox.js"></script>' in html
    for asset, kind in (
        (f"{STATIC}/console.css", "text/css"),
        (f"{STATIC}/sandbox.css", "text/css"),
        (f"{STATIC}/sandbox.js", "text/javascript"),
    ):
        assert f'"{asset}"' in html
        got = await client.get(asset)
        assert got.status_code == 200
        assert got.headers["content-type"].startswith(kind)
        assert got.headers["x-content-type-options"] == "nosniff"


async def test_the_old_address_redirects_to_the_console_and_keeps_the_api(
    client: httpx.AsyncClient,
) -> None:
    r = await client.get("/sandbox")
    assert r.status_code == 307
    assert r.headers["location"] == PAGE
    followed = await client.get("/sandbox", follow_redirects=True)
    assert followed.status_code == 200 and str(followed.url).endswith(PAGE)
    assert 'id="scan"' in followed.text
    # The page's files moved with it: nothing is served at the old paths any more ...
    for old in ("/sandbox/sandbox.js", "/sandbox/sandbox-lib.js", "/sandbox/sandbox.css"):
        assert (await client.get(old)).status_code == 404, old
    # ... while the phones' routes under /sandbox stay where they were.
    spec = (await client.get("/openapi.json")).json()["paths"]
    assert "/sandbox/phones/{phone}/scan" in spec


async def test_the_script_modules_are_served_as_the_console_s_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    for name in ("sandbox.js", *(f"sandbox-{m}.js" for m in ("lib", "chat", "groups", "more"))):
        r = await client.get(f"{STATIC}/{name}")
        assert r.status_code == 200
        assert r.headers["content-type"].startswith("text/javascript")
        assert r.headers["x-content-type-options"] == "nosniff"
        for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert sink not in r.text, (name, sink)
    for unknown in ("sandbox-x.js", "sandbox-..%2Fsandbox.js", "sandbox-lib.jsx"):
        r = await client.get(f"{STATIC}/{unknown}")
        assert r.status_code == 404, unknown


async def test_the_page_uses_the_console_s_token_and_never_puts_it_in_a_url(
    client: httpx.AsyncClient,
) -> None:
    script = "\n".join((await page_scripts(client)).values())
    # The token is the one the console keeps for the tab (console.js), read through it ...
    assert "window.fleetgate.token()" in script
    assert "sessionStorage" not in script and '$("token")' not in script
    # ... and travels in the Authorization header only, never in a path or a query.
    assert "token()}" not in script and "token=" not in script
    assert "/partner/getInstances/" not in script


async def test_every_call_of_the_page_is_a_route_with_that_method(
    client: httpx.AsyncClient,
) -> None:
    scripts = await page_scripts(client)
    assert set(scripts) == {
        f"{STATIC}/sandbox.js",
        f"{STATIC}/sandbox-lib.js",
        f"{STATIC}/sandbox-chat.js",
        f"{STATIC}/sandbox-groups.js",
        f"{STATIC}/sandbox-more.js",
    }
    script = "\n".join(scripts.values())
    calls = page_calls(script)
    # The script reaches the server through json() alone, so the calls above are all of them,
    # and every method it names was read with its call (none was taken for a GET).
    assert script.count("fetch(") == 1
    verbs = [verb for _, verb in _CALL.findall(script) if verb]
    assert len(verbs) == script.count("method:")
    assert {path.split("\0")[0] for _, path in calls} >= {
        "/instances",
        "/sandbox/instances/",
        "/sandbox/phones/",
        "/waInstance",
    }
    # The page's phone does everything its routes offer (the groups' actions share one route).
    phone_routes = {path.split("\0")[1] for _, path in calls if path.startswith("/sandbox/phones/")}
    assert phone_routes >= {
        "/scan",
        "/link",
        "/messages",
        "/conversation",
        "/edit",
        "/delete",
        "/react",
        "/vote",
        "/call",
        "/block",
        "/statuses",
        "/statuses/read",
        "/groups",
        "/groups/",
    }
    spec = (await client.get("/openapi.json")).json()["paths"]
    dead = sorted(call for call in calls if not routed(spec, *call))
    assert dead == [], f"the page calls routes the server does not have: {dead}"
    # The page sends a phone's text as JSON and its files as a multipart form (FormData): the
    # route declares both bodies.
    assert "new FormData()" in script
    bodies = spec["/sandbox/phones/{phone}/messages"]["post"]["requestBody"]["content"]
    assert bodies.keys() == {"application/json", "multipart/form-data"}
    form = bodies["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert {"chatId", "file"} <= set(form["required"])


def test_a_renamed_or_rewired_call_is_caught() -> None:
    """The check above fails for a path or a method the server does not route."""
    spec = {
        "/sandbox/phones/{phone}/messages": {"get": {}, "post": {}},
        "/waInstance{idInstance}/qr/{apiTokenInstance}": {"get": {}},
    }
    script = 'json(`/sandbox/phones/${p}/messages`, { method: "POST", headers: auth() })'
    assert page_calls(script) == {("POST", "/sandbox/phones/\0/messages")}
    spread = 'json(`/sandbox/phones/${seg(me())}/call`, { method: "POST", ...withJson(b) })'
    assert page_calls(spread) == {("POST", "/sandbox/phones/\0/call")}
    assert routed(spec, "POST", "/sandbox/phones/\0/messages")
    assert not routed(spec, "DELETE", "/sandbox/phones/\0/messages")
    assert not routed(spec, "POST", "/sandbox/phones/\0/message")
    assert routed(spec, "GET", "/waInstance\0/qr/\0")
    assert not routed(spec, "GET", "/waInstance\0/qrCode/\0")
