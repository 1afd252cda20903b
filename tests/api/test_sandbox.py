"""The sandbox's virtual phones over HTTP, against a live server on both databases."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from urllib.parse import quote

import httpx
import pytest

from tests.sending import new_phone
from tests.support import MakePartner

PHONE = "79001234567"
ALREADY_AUTHORIZED = "instance account already authorized"
# Instance states change asynchronously (runner, engine); every wait for one is bounded by this.
STATE_TIMEOUT_S = 5.0


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass(frozen=True)
class Inst:
    """An instance created through the partner API, with its partner's token."""

    id: int
    token: str
    partner_token: str

    def url(self, method: str) -> str:
        return f"/waInstance{self.id}/{method}/{self.token}"

    @property
    def auth(self) -> dict[str, str]:
        return bearer(self.partner_token)


async def new_instance(client: httpx.AsyncClient, partner_token: str, *, wait: bool = True) -> Inst:
    """A new instance, once its session runs (it shows notAuthorized) unless told not to wait."""
    r = await client.post(f"/partner/createInstance/{partner_token}", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    inst = Inst(body["idInstance"], body["apiTokenInstance"], partner_token)
    if wait:
        await wait_for_state(client, inst, "notAuthorized")
    return inst


async def state_of(client: httpx.AsyncClient, inst: Inst) -> str:
    r = await client.get(inst.url("getStateInstance"))
    assert r.status_code == 200, r.text
    state: str = r.json()["stateInstance"]
    return state


async def wait_for_state(client: httpx.AsyncClient, inst: Inst, state: str) -> None:
    deadline = time.monotonic() + STATE_TIMEOUT_S
    seen = await state_of(client, inst)
    while seen != state:
        if time.monotonic() > deadline:
            raise AssertionError(f"instance {inst.id} not {state} in {STATE_TIMEOUT_S} s: {seen}")
        await asyncio.sleep(0.05)
        seen = await state_of(client, inst)


async def get_qr(client: httpx.AsyncClient, inst: Inst) -> str:
    r = await client.get(f"/sandbox/instances/{inst.id}/qr", headers=inst.auth)
    assert r.status_code == 200, r.text
    qr: str = r.json()["qr"]
    return qr


async def get_code(client: httpx.AsyncClient, inst: Inst, phone: str) -> str:
    r = await client.post(inst.url("getAuthorizationCode"), json={"phoneNumber": int(phone)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] is True
    code: str = body["code"]
    return code


async def scan(client: httpx.AsyncClient, token: str, phone: str, qr: str) -> httpx.Response:
    return await client.post(
        f"/sandbox/phones/{phone}/scan", json={"qr": qr}, headers=bearer(token)
    )


async def link(client: httpx.AsyncClient, token: str, phone: str, code: str) -> httpx.Response:
    return await client.post(
        f"/sandbox/phones/{phone}/link", json={"code": code}, headers=bearer(token)
    )


async def phone_logout(client: httpx.AsyncClient, token: str, phone: str) -> httpx.Response:
    return await client.post(f"/sandbox/phones/{phone}/logout", headers=bearer(token))


def assert_error(r: httpx.Response, status: int) -> str:
    """The response is ``status`` with a ``{"error": text}`` body; returns the text."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ["error"]
    assert isinstance(body["error"], str)
    assert body["error"]
    text: str = body["error"]
    return text


async def test_scanning_the_qr_authorizes_the_instance(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    inst = await new_instance(client, await make_partner())
    r = await client.get(f"/sandbox/instances/{inst.id}/qr", headers=inst.auth)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert set(shown) == {"qr", "expiresMs"}
    assert isinstance(shown["qr"], str)
    assert shown["qr"]
    assert shown["expiresMs"] > time.time() * 1000
    assert await get_qr(client, inst) == shown["qr"]

    r = await scan(client, inst.partner_token, phone, shown["qr"])
    assert r.status_code == 200, r.text
    assert r.json() == {"linked": True, "idInstance": inst.id}
    await wait_for_state(client, inst, "authorized")
    settings = (await client.get(inst.url("getWaSettings"))).json()
    assert settings["phone"] == phone

    r = await client.get(f"/sandbox/instances/{inst.id}/qr", headers=inst.auth)
    assert assert_error(r, 400) == ALREADY_AUTHORIZED


async def test_typing_the_pairing_code_authorizes_the_instance(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    inst = await new_instance(client, await make_partner())
    code = await get_code(client, inst, phone)
    r = await link(client, inst.partner_token, phone, code)
    assert r.status_code == 200, r.text
    assert r.json() == {"linked": True, "idInstance": inst.id}
    await wait_for_state(client, inst, "authorized")
    assert (await client.get(inst.url("getWaSettings"))).json()["phone"] == phone


async def test_phone_logout_makes_the_instance_not_authorized(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    inst = await new_instance(client, await make_partner())
    assert (await scan(client, inst.partner_token, phone, await get_qr(client, inst))).is_success
    await wait_for_state(client, inst, "authorized")

    r = await phone_logout(client, inst.partner_token, phone)
    assert r.status_code == 200, r.text
    assert r.json() == {"unlinked": [inst.id]}
    await wait_for_state(client, inst, "notAuthorized")
    r = await phone_logout(client, inst.partner_token, phone)
    assert r.json() == {"unlinked": []}

    # Unlinked, it shows a QR again and can be linked anew.
    assert (await scan(client, inst.partner_token, phone, await get_qr(client, inst))).is_success
    await wait_for_state(client, inst, "authorized")


async def test_phone_logout_leaves_other_partners_instances_linked(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    inst = await new_instance(client, await make_partner())
    assert (await scan(client, inst.partner_token, phone, await get_qr(client, inst))).is_success
    await wait_for_state(client, inst, "authorized")

    # Another partner cannot act as this phone at all.
    r = await phone_logout(client, await make_partner(), phone)
    assert (r.status_code, r.json()) == (404, {"error": "this number is not one of your phones"})
    assert await state_of(client, inst) == "authorized"


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-partner-token"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["missing", "empty", "no-token", "wrong-token", "basic"],
)
async def test_missing_or_wrong_bearer_token_is_401(
    client: httpx.AsyncClient, make_partner: MakePartner, headers: dict[str, str]
) -> None:
    inst = await new_instance(client, await make_partner(), wait=False)
    requests = [
        client.get(f"/sandbox/instances/{inst.id}/qr", headers=headers),
        client.post(f"/sandbox/phones/{PHONE}/scan", json={"qr": "x"}, headers=headers),
        client.post(f"/sandbox/phones/{PHONE}/link", json={"code": "ABCD1234"}, headers=headers),
        client.post(f"/sandbox/phones/{PHONE}/logout", headers=headers),
    ]
    for request in requests:
        assert_error(await request, 401)


async def test_partner_token_of_the_url_api_is_no_bearer_token(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    inst = await new_instance(client, await make_partner(), wait=False)
    # The instance's own token is not a partner token.
    r = await client.get(f"/sandbox/instances/{inst.id}/qr", headers=bearer(inst.token))
    assert_error(r, 401)


@pytest.mark.parametrize(
    "phone",
    ["123456", "1234567890123456", "7900abc4567", "+79001234567", "7900-123-4567", "0x1234567"],
)
async def test_bad_phone_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner, phone: str
) -> None:
    token = await make_partner()
    path = f"/sandbox/phones/{quote(phone, safe='')}"
    for r in [
        await client.post(f"{path}/scan", json={"qr": "x"}, headers=bearer(token)),
        await client.post(f"{path}/link", json={"code": "ABCD1234"}, headers=bearer(token)),
        await client.post(f"{path}/logout", headers=bearer(token)),
    ]:
        assert "digits" in assert_error(r, 400)


async def test_unknown_qr_is_404(client: httpx.AsyncClient, make_partner: MakePartner) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    inst = await new_instance(client, await make_partner())
    shown = await get_qr(client, inst)
    for payload in ["", "fleetgate-sandbox:1:nope", shown + "x", shown.upper()]:
        assert_error(await scan(client, inst.partner_token, phone, payload), 404)
    assert await state_of(client, inst) == "notAuthorized"


async def test_wrong_code_or_code_for_another_phone_is_404(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    other_phone = new_phone()
    inst = await new_instance(client, await make_partner())
    code = await get_code(client, inst, phone)
    wrong = ("A" if code[0] != "A" else "B") + code[1:]
    assert_error(await link(client, inst.partner_token, phone, wrong), 404)
    assert_error(await link(client, inst.partner_token, phone, ""), 404)
    assert_error(await link(client, inst.partner_token, other_phone, code), 404)
    assert await state_of(client, inst) == "notAuthorized"
    # The refused attempts did not use the code up.
    assert (await link(client, inst.partner_token, phone, code)).status_code == 200
    await wait_for_state(client, inst, "authorized")


async def test_another_partners_instance_is_404(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    phone = new_phone()  # the network is shared: each test uses numbers of its own
    inst = await new_instance(client, await make_partner())
    stranger = await make_partner()
    r = await client.get(f"/sandbox/instances/{inst.id}/qr", headers=bearer(stranger))
    assert_error(r, 404)
    shown = await get_qr(client, inst)
    code = await get_code(client, inst, phone)
    assert_error(await scan(client, stranger, phone, shown), 404)
    assert_error(await link(client, stranger, phone, code), 404)
    assert await state_of(client, inst) == "notAuthorized"

    assert (await scan(client, inst.partner_token, phone, shown)).status_code == 200
    await wait_for_state(client, inst, "authorized")


async def test_unknown_or_deleted_instance_qr_is_404(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    inst = await new_instance(client, await make_partner())
    r = await client.get(f"/sandbox/instances/{inst.id + 1}/qr", headers=inst.auth)
    assert_error(r, 404)
    r = await client.post(
        f"/partner/deleteInstanceAccount/{inst.partner_token}", json={"idInstance": inst.id}
    )
    assert r.status_code == 200, r.text
    r = await client.get(f"/sandbox/instances/{inst.id}/qr", headers=inst.auth)
    assert_error(r, 404)


@pytest.mark.parametrize(
    "content",
    [b"{", b"not json", b"[]", b'"qr"', b"{}", b'{"qr": 5}', b'{"qr": "x", "extra": 1}'],
    ids=["truncated", "text", "array", "string", "empty-object", "wrong-type", "extra-key"],
)
async def test_bad_scan_body_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner, content: bytes
) -> None:
    token = await make_partner()
    r = await client.post(
        f"/sandbox/phones/{PHONE}/scan",
        content=content,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_error(r, 400)


@pytest.mark.parametrize(
    "content",
    [b"{", b"", b'{"code": 12345678}', b'{"qr": "x"}', b'{"code": null}'],
    ids=["truncated", "no-body", "wrong-type", "wrong-key", "null"],
)
async def test_bad_link_body_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner, content: bytes
) -> None:
    token = await make_partner()
    r = await client.post(
        f"/sandbox/phones/{PHONE}/link",
        content=content,
        headers={**bearer(token), "Content-Type": "application/json"},
    )
    assert_error(r, 400)


async def test_body_over_the_size_limit_is_refused(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    r = await client.post(
        f"/sandbox/phones/{PHONE}/scan", json={"qr": "x" * 1_100_000}, headers=bearer(token)
    )
    assert r.status_code in (400, 413), r.text
    assert "error" in r.json()


async def test_phone_of_non_ascii_digits_is_400(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    arabic_indic = "".join(chr(0x0660 + int(digit)) for digit in PHONE)
    phone = quote(arabic_indic, safe="")
    assert_error(await phone_logout(client, token, phone), 400)


async def test_non_numeric_instance_id_is_an_error_in_the_sandbox_format(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    r = await client.get("/sandbox/instances/not-a-number/qr", headers=bearer(token))
    assert r.status_code in (400, 404), r.text
    assert "error" in r.json()
