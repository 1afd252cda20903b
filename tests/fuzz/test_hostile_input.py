"""Hostile requests against the live server: each gets a clear 4xx in its façade's format, and
nothing stored changes (settings, send queue, instance list, Z-API name, dead letters).

Inputs: bodies over FLEETGATE_HTTP__MAX_BODY_BYTES (declared, chunked, or a declared length
that never comes), deep nesting, invalid UTF-8, numbers past every range (1e400, 10**400, -0,
NaN, Infinity), wrong content types, empty and non-object bodies, NUL characters, and very
long or undecodable URLs. Requests the HTTP parser itself refuses (a URL past its limit, raw
bytes that are not UTF-8 in the request line) get uvicorn's plain 400 instead.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.fuzz.formats import problem
from tests.sending import bearer, new_phone
from tests.support import Instance, LiveServer, MakeInstance

JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Target:
    """A route that writes, and what a valid body for it looks like."""

    method: str
    path: str
    headers: dict[str, str]
    field: str  # a string field of its body


@dataclass
class Victim:
    inst: Instance
    phone: str
    to_phone: str

    @property
    def zapi(self) -> str:
        return f"/instances/{self.inst.id}/token/{self.inst.token}"

    def targets(self) -> list[Target]:
        auth = bearer(self.inst.partner_token)
        return [
            Target("POST", f"/partner/createInstance/{self.inst.partner_token}", {}, "name"),
            Target("POST", self.inst.url("setSettings"), {}, "webhookUrl"),
            Target("POST", self.inst.url("sendMessage"), {}, "message"),
            Target("PUT", f"{self.zapi}/update-name", JSON, "value"),
            Target("POST", f"{self.zapi}/send-text", JSON, "message"),
            Target("POST", "/instances/integrator/on-demand", JSON | auth, "name"),
            Target("POST", f"/sandbox/phones/{self.phone}/messages", auth, "message"),
            Target("POST", "/admin/dead-letters/replay", auth, "ids"),
        ]


@pytest.fixture
async def victim(make_instance: MakeInstance) -> Victim:
    return Victim(await make_instance(), new_phone(), new_phone())


@pytest.fixture
async def client(server: LiveServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as c:
        yield c


async def snapshot(client: httpx.AsyncClient, v: Victim) -> dict[str, Any]:
    """Everything a refused request could have changed."""
    auth = bearer(v.inst.partner_token)
    listed = (await client.get(f"/partner/getInstances/{v.inst.partner_token}")).json()
    inbox = await client.get(f"/sandbox/phones/{v.to_phone}/messages", headers=auth)
    return {
        "settings": (await client.get(v.inst.url("getSettings"))).json(),
        "queue": (await client.get(v.inst.url("showMessagesQueue"))).json(),
        "instances": sorted((i["idInstance"], i["name"], i["deleted"]) for i in listed),
        "zapi name": (await client.get(f"{v.zapi}/me")).json()["name"],
        "inbox": inbox.json(),
        "dead letters": (await client.get("/admin/dead-letters", headers=auth)).json(),
    }


class Refusals:
    """Sends requests that must be refused with ``status`` and collects what went wrong."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.wrong: list[str] = []
        self.count = 0

    async def expect(
        self, status: int | tuple[int, ...], method: str, path: str, **kwargs: Any
    ) -> None:
        r = await self.client.request(method, path, **kwargs)
        self.count += 1
        wanted = status if isinstance(status, tuple) else (status,)
        why = problem(path, r.status_code, r.content)
        if r.status_code not in wanted or why is not None:
            self.wrong.append(f"{method} {path[:80]}: {r.status_code} {r.text[:160]} ({why})")


async def _refused(client: httpx.AsyncClient, v: Victim, cases: Any) -> None:
    before = await snapshot(client, v)
    refusals = Refusals(client)
    await cases(refusals)
    print(f"\nhostile requests: {refusals.count}")
    assert refusals.wrong == [], "\n".join(refusals.wrong)
    assert await snapshot(client, v) == before


async def test_oversized_bodies_are_413_however_they_come(
    client: httpx.AsyncClient, server: LiveServer, victim: Victim
) -> None:
    limit = server.settings.http.max_body_bytes

    async def cases(r: Refusals) -> None:
        for t in victim.targets():
            big = b'{"%s": "%s"}' % (t.field.encode(), b"x" * limit)

            async def chunked(body: bytes = big) -> AsyncIterator[bytes]:
                for start in range(0, len(body), 65536):
                    yield body[start : start + 65536]

            await r.expect(413, t.method, t.path, content=big, headers=t.headers)
            await r.expect(413, t.method, t.path, content=chunked(), headers=t.headers)
            # At the limit exactly the body is read (and refused for what it says).
            at_limit = b" " * (limit - 2) + b"[]"
            await r.expect(400, t.method, t.path, content=at_limit, headers=t.headers)

    await _refused(client, victim, cases)
    # A length that is declared but never sent is refused without waiting for the body.
    head = f"POST {victim.inst.url('setSettings')} HTTP/1.1\r\nHost: x\r\n"
    answer = await raw_request(server.port, f"{head}Content-Length: 99999999999\r\n\r\n{{}}")
    assert answer.startswith(b"HTTP/1.1 413 "), answer


async def test_malformed_json_is_400(client: httpx.AsyncClient, victim: Victim) -> None:
    bodies = [
        b"[" * 100_000,  # deeper than any parser should go
        b"[" * 1000 + b"]" * 1000,  # deep but valid: not an object
        b'{"%s": "\xff\xfe"}',  # invalid UTF-8
        b'{"%s": "\xed\xa0\x80"}',  # an encoded lone surrogate
        b'{"%s": 1e400}',
        b'{"%s": 1' + b"0" * 400 + b"}",
        b'{"%s": NaN}',
        b'{"%s": Infinity}',
        b'{"%s": -Infinity}',
        b'{"%s": ',
        b'\xef\xbb\xbf{"%s": "x"}',  # a byte order mark
        b'{"%s": "x"} trailing',
        b"{'%s': 'x'}",
    ]

    async def cases(r: Refusals) -> None:
        for t in victim.targets():
            for body in bodies:
                content = body.replace(b"%s", t.field.encode())
                await r.expect(400, t.method, t.path, content=content, headers=t.headers)

    await _refused(client, victim, cases)


async def test_empty_non_object_and_out_of_range_bodies_are_400(
    client: httpx.AsyncClient, victim: Victim
) -> None:
    async def cases(r: Refusals) -> None:
        for t in victim.targets():
            for body in (b"[]", b'"text"', b"1", b"true", b"[{}]", b'{"%s": {}}', b'{"%s": [[1]]}'):
                content = body.replace(b"%s", t.field.encode())
                await r.expect(400, t.method, t.path, content=content, headers=t.headers)
            if not t.path.startswith("/partner/"):  # an empty createInstance is a valid one
                await r.expect(400, t.method, t.path, content=b"", headers=t.headers)
                await r.expect(400, t.method, t.path, content=b"  \n ", headers=t.headers)
        for value in (b"-0", b"-0.0", b"499", b"600001", b"1e3", b"18446744073709551616"):
            body = b'{"delaySendMessagesMilliseconds": %s}' % value
            await r.expect(400, "POST", victim.inst.url("setSettings"), content=body)
        contact = b'{"chatId": "79001234567@c.us", "contact": {"phoneContact": %s}}'
        for value in (b"-0", b"1e300", b"1" + b"0" * 30, b"3.5"):
            await r.expect(400, "POST", victim.inst.url("sendContact"), content=contact % value)
        send_text = {"phone": "79001234567", "message": "x", "delayMessage": 10**30}
        await r.expect(400, "POST", f"{victim.zapi}/send-text", json=send_text)
        await r.expect(
            400,
            "POST",
            "/admin/dead-letters/replay",
            json={"ids": [2**63]},
            headers=bearer_of(victim),
        )
        for n in ("1" + "0" * 30, "9" * 5000, "-1", "1e3"):
            await r.expect(400, "GET", f"/admin/dead-letters?limit={n}", headers=bearer_of(victim))
            history = victim.inst.url("getStateInstanceHistory")
            await r.expect(400, "GET", f"{history}?count={n}")
            await r.expect(
                400, "GET", f"{victim.inst.url('receiveNotification')}?receiveTimeout={n}"
            )

    await _refused(client, victim, cases)


def bearer_of(v: Victim) -> dict[str, str]:
    return bearer(v.inst.partner_token)


async def test_numbers_past_64_bits_in_paths_and_queries(
    client: httpx.AsyncClient, victim: Victim
) -> None:
    v, auth = victim, bearer_of(victim)
    past = str(2**64)  # 20 digits: no database integer holds it
    huge = "9" * 5000  # more digits than int() converts

    async def cases(r: Refusals) -> None:
        await r.expect(400, "GET", f"/waInstance{'9' * 19}/getSettings/{v.inst.token}")
        await r.expect(404, "GET", f"/instances/{'9' * 19}/token/{v.inst.token}/status")
        await r.expect(404, "GET", f"/sandbox/instances/{'9' * 19}/qr", headers=auth)
        batch = {"instances": [{"id": "9" * 19, "token": v.inst.token}]}
        await r.expect(200, "POST", "/instances/integrator/on-demand/batch-delete",
                       json=batch, headers=auth)  # fmt: skip
        delete = b'{"idInstance": %s}' % past.encode()
        await r.expect(400, "POST", f"/partner/deleteInstanceAccount/{v.inst.partner_token}",
                       content=delete)  # fmt: skip
        for n in (past, huge):
            await r.expect(200, "DELETE", f"{v.inst.url('deleteNotification')}/{n}")
            await r.expect(200, "GET", f"{v.inst.url('getContacts')}?count={n}")
            await r.expect(400, "GET", f"{v.inst.url('lastIncomingMessages')}?minutes={n}")
            await r.expect(
                400, "GET", f"/sandbox/phones/{v.phone}/messages?limit={n}", headers=auth
            )
            await r.expect(200, "GET", f"/admin/dead-letters?idInstance={n}", headers=auth)

    await _refused(client, v, cases)


async def test_wrong_content_types(client: httpx.AsyncClient, victim: Victim) -> None:
    # Z-API refuses a JSON body without a JSON Content-Type (415); a body that is not JSON at
    # all is a 400 everywhere (every façade reads the body as JSON, whatever its type says).
    kinds = ("application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "text/plain")

    async def cases(r: Refusals) -> None:
        for t in victim.targets():
            zapi = t.path.startswith("/instances")
            plain = {k: v for k, v in t.headers.items() if k != "content-type"}
            for kind in kinds:
                headers = plain | {"content-type": kind}
                form = b"%s=x" % t.field.encode()
                await r.expect(400, t.method, t.path, content=form, headers=headers)
                if zapi:
                    json_body = b'{"%s": "x"}' % t.field.encode()
                    await r.expect(415, t.method, t.path, content=json_body, headers=headers)

    await _refused(client, victim, cases)


async def test_nul_characters_are_refused_where_they_name_or_address_something(
    client: httpx.AsyncClient, victim: Victim
) -> None:
    v = victim
    auth = bearer(v.inst.partner_token)
    chat = "79001234567@c.us"

    async def cases(r: Refusals) -> None:
        nul = "a\u0000b"
        await r.expect(400, "POST", f"/partner/createInstance/{v.inst.partner_token}",
                       json={"name": nul})  # fmt: skip
        for key in ("webhookUrl", "webhookUrlToken"):
            await r.expect(400, "POST", v.inst.url("setSettings"), json={key: f"http://x/{nul}"})
        for method in ("getMessage", "readChat"):
            await r.expect(400, "POST", v.inst.url(method), json={"chatId": chat, "idMessage": nul})
        quoted = {"chatId": chat, "message": "x", "quotedMessageId": nul}
        await r.expect(400, "POST", v.inst.url("sendMessage"), json=quoted)
        forward = {"chatId": chat, "chatIdFrom": chat, "messages": [nul]}
        await r.expect(400, "POST", v.inst.url("forwardMessages"), json=forward)
        await r.expect(400, "POST", v.inst.url("sendMessage"), json={"chatId": chat + "\0"})
        await r.expect(400, "PUT", f"{v.zapi}/update-name", json={"value": nul})
        await r.expect(400, "PUT", f"{v.zapi}/update-webhook-received", json={"value": nul})
        await r.expect(400, "PUT", f"{v.zapi}/update-call-reject-message", json={"value": nul})
        create = {"name": nul}
        await r.expect(400, "POST", "/instances/integrator/on-demand", json=create, headers=auth)
        for path, body in (("scan", {"qr": nul}), ("link", {"code": nul})):
            url = f"/sandbox/phones/{v.phone}/{path}"
            await r.expect(400, "POST", url, json=body, headers=auth)
        await r.expect(401, "GET", v.inst.url("getSettings", token="a%00b"))
        await r.expect(404, "GET", f"/instances/{v.inst.id}/token/a%00b/status")
        await r.expect((400, 404), "GET", "/sandbox/phones/7900%001234/messages", headers=auth)

    await _refused(client, v, cases)


async def test_nul_inside_message_text_is_kept_as_data(
    client: httpx.AsyncClient, victim: Victim
) -> None:
    text = "before\u0000after"
    body = {"chatId": f"{victim.to_phone}@c.us", "message": text}
    r = await client.post(victim.inst.url("sendMessage"), json=body)
    assert r.status_code == 200, r.text
    queued = (await client.get(victim.inst.url("showMessagesQueue"))).json()
    assert [q["body"]["message"] for q in queued] == [text]


async def test_long_and_undecodable_urls(
    client: httpx.AsyncClient, server: LiveServer, victim: Victim
) -> None:
    v = victim
    long = "a" * 60_000  # under the HTTP parser's limit: the app answers

    async def cases(r: Refusals) -> None:
        await r.expect(401, "GET", v.inst.url("getSettings", token=long))
        await r.expect(200, "GET", f"/partner/getInstances/{long}")  # {"code": 401, ...}
        await r.expect(404, "GET", f"/partner/{long}/{v.inst.partner_token}")
        await r.expect(404, "GET", f"/waInstance{v.inst.id}/{long}/{v.inst.token}")
        await r.expect(400, "GET", f"/waInstance{'9' * 30_000}/getSettings/{v.inst.token}")
        await r.expect(404, "GET", f"/instances/{v.inst.id}/token/{long}/status")
        await r.expect(404, "GET", f"/instances/{'9' * 30_000}/token/{v.inst.token}/status")
        await r.expect(400, "GET", f"/sandbox/phones/{'9' * 30_000}/messages", headers=bearer_of(v))
        await r.expect(401, "GET", v.inst.url("getSettings", token="%FF%FE%ED%A0%80"))
        await r.expect(400, "GET", "/instances?page=%FF&pageSize=1", headers=bearer_of(v))

    await _refused(client, v, cases)
    # A request line over the head limit (HTTP__MAX_HEAD_BYTES, 64 KiB) is refused with 431
    # before it is parsed whole; a line that cannot be decoded, with 400.
    for target, status in (
        (f"/waInstance{v.inst.id}/getSettings/{'a' * 200_000}", b"431"),
        ("/waInstance\xff/x/y", b"400"),
    ):
        answer = await raw_request(server.port, f"GET {target} HTTP/1.1\r\nHost: x\r\n\r\n")
        assert answer.startswith(b"HTTP/1.1 " + status + b" "), answer[:200]
    assert (await client.get("/health")).status_code == 200


async def test_duplicate_keys_take_the_last_value_as_every_json_stack_does(
    client: httpx.AsyncClient, victim: Victim
) -> None:
    body = b'{"delaySendMessagesMilliseconds": 900, "delaySendMessagesMilliseconds": 1200}'
    r = await client.post(victim.inst.url("setSettings"), content=body)
    assert r.status_code == 200, r.text
    settings = (await client.get(victim.inst.url("getSettings"))).json()
    assert settings["delaySendMessagesMilliseconds"] == 1200
    # A duplicate that makes the body invalid is refused whole.
    bad = b'{"delaySendMessagesMilliseconds": 900, "delaySendMessagesMilliseconds": "x"}'
    r = await client.post(victim.inst.url("setSettings"), content=bad)
    assert r.status_code == 400, r.text
    after = (await client.get(victim.inst.url("getSettings"))).json()
    assert after["delaySendMessagesMilliseconds"] == 1200


async def raw_request(port: int, head: str) -> bytes:
    """Send bytes the HTTP client would not (mismatched lengths, raw non-UTF-8); the answer."""

    def exchange() -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(head.encode("latin-1"))
            answer = b""
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
            return answer

    return await asyncio.to_thread(exchange)
