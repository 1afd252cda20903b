"""The /sandbox page a person uses to link instances and write as a contact."""

from __future__ import annotations

import re

import httpx

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


# The modules a script imports: import { ... } from "./<file>.js";
_IMPORT = re.compile(r'^import \{[^}]*\} from "\./([a-z-]+\.js)";$', re.MULTILINE)


async def page_scripts(client: httpx.AsyncClient) -> dict[str, str]:
    """Every script of the page, by its path: sandbox.js and the modules it imports, in turn."""
    scripts: dict[str, str] = {}
    waiting = ["/sandbox/sandbox.js"]
    while waiting:
        path = waiting.pop()
        r = await client.get(path)
        assert r.status_code == 200, path
        assert r.headers["content-type"].startswith("text/javascript"), path
        scripts[path] = r.text
        waiting += [
            f"/sandbox/{m}" for m in _IMPORT.findall(r.text) if f"/sandbox/{m}" not in scripts
        ]
    return scripts


async def test_page_is_served_with_its_script_and_style(client: httpx.AsyncClient) -> None:
    r = await client.get("/sandbox")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/html")
    html = r.text
    for element in (
        'id="token"',
        'id="instances"',
        'id="qr"',
        'id="scan"',
        'id="send"',
        'id="file"',
        'id="sendFile"',
    ):
        assert element in html
    # No inline code or style: the page's policy would refuse it.
    assert "<script>" not in html and "<style>" not in html
    assert not re.search(r"\son[a-z]+\s*=|\sstyle\s*=", html, re.IGNORECASE)
    for asset, kind in (
        ("/sandbox/sandbox.js", "text/javascript"),
        ("/sandbox/sandbox.css", "text/css"),
    ):
        assert f'"{asset}"' in html
        got = await client.get(asset)
        assert got.status_code == 200
        assert got.headers["content-type"].startswith(kind)
        assert got.headers["x-content-type-options"] == "nosniff"


async def test_the_script_modules_are_served_as_the_page_is_and_nothing_else(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/sandbox")
    for module in ("lib", "chat", "groups", "more"):
        r = await client.get(f"/sandbox/sandbox-{module}.js")
        assert r.status_code == 200
        assert r.headers["content-type"] == "text/javascript; charset=utf-8"
        for header in ("content-security-policy", "x-content-type-options", "cache-control"):
            assert r.headers[header] == page.headers[header]
        assert "innerHTML" not in r.text and "eval(" not in r.text
    for unknown in ("sandbox-x.js", "sandbox-..%2Fsandbox.js", "sandbox-lib.jsx"):
        r = await client.get(f"/sandbox/{unknown}")
        assert r.status_code == 404, unknown


async def test_every_call_of_the_page_is_a_route_with_that_method(
    client: httpx.AsyncClient,
) -> None:
    scripts = await page_scripts(client)
    assert set(scripts) == {
        "/sandbox/sandbox.js",
        "/sandbox/sandbox-lib.js",
        "/sandbox/sandbox-chat.js",
        "/sandbox/sandbox-groups.js",
        "/sandbox/sandbox-more.js",
    }
    script = "\n".join(scripts.values())
    calls = page_calls(script)
    # The script reaches the server through json() alone, so the calls above are all of them,
    # and every method it names was read with its call (none was taken for a GET).
    assert script.count("fetch(") == 1
    verbs = [verb for _, verb in _CALL.findall(script) if verb]
    assert len(verbs) == script.count("method:")
    assert {path.split("\0")[0] for _, path in calls} >= {
        "/partner/getInstances/",
        "/sandbox/instances/",
        "/sandbox/phones/",
        "/waInstance",
    }
    # The page's phone does everything its routes offer (the groups' actions share one route).
    phone_routes = {path.split("\0")[1] for _, path in calls if path.startswith("/sandbox/phones/")}
    assert phone_routes >= {
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
