"""The Z-API partner (integrator) routes over HTTP, against a live server on both databases.

Everything goes through tests/zapi_client.py, the way a Z-API integrator's own code calls
them; each test uses partners of its own, so tests share the server but not their data.
"""

from __future__ import annotations

import math
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from tests.support import Instance, MakePartner, authorize
from tests.zapi_client import ZapiInstance, ZapiPartner

NewPartner = Callable[[], Awaitable[ZapiPartner]]
Json = dict[str, Any]

ENVELOPE_KEYS = ["total", "totalPage", "pageSize", "page", "content"]
CALLBACK_KEYS = [
    "deliveryCallbackUrl",
    "receivedCallbackUrl",
    "disconnectedCallbackUrl",
    "messageStatusCallbackUrl",
    "receivedAndDeliveryCallbackUrl",
    "presenceChatCallbackUrl",
    "connectedCallbackUrl",
    "receivedStatusCallbackUrl",
]
ITEM_KEYS = [
    "token",
    "tenant",
    "created",
    "due",
    "paymentStatus",
    *CALLBACK_KEYS,
    "phoneConnected",
    "whatsappConnected",
    "middleware",
    "name",
    "id",
]
# Every callback URL create accepts (receivedStatusCallbackUrl has no setter).
SETTABLE_CALLBACKS = [k for k in CALLBACK_KEYS if k != "receivedStatusCallbackUrl"]
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
HOUR_MS = 3_600_000
NOT_FOUND = {"error": "Instance not found"}


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def month_end(ms: int) -> int:
    """The first millisecond of the UTC month after the one ``ms`` is in."""
    t = datetime.fromtimestamp(ms / 1000, UTC)
    year, month = (t.year + 1, 1) if t.month == 12 else (t.year, t.month + 1)
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp()) * 1000


def new_phone() -> str:
    """A random 11-digit number no test has used (the sandbox network is shared)."""
    return "79" + "".join(secrets.choice("0123456789") for _ in range(9))


def assert_error(r: httpx.Response, status: int, *words: str) -> str:
    """``r`` is ``{"error": text}`` with ``status``, and the text mentions each word."""
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert list(body) == ["error"], body
    text = body["error"]
    assert isinstance(text, str) and text, body
    for word in words:
        assert word.lower() in text.lower(), (word, text)
    return text


@pytest.fixture
def new_partner(client: httpx.AsyncClient, make_partner: MakePartner) -> NewPartner:
    """Factory: a Z-API client for a fresh partner."""

    async def make() -> ZapiPartner:
        return ZapiPartner(client, await make_partner())

    return make


async def listed(partner: ZapiPartner, page: int = 1, page_size: int = 200, **q: str) -> Json:
    r = await partner.list(page, page_size, **q)
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


async def ids_listed(partner: ZapiPartner, **q: str) -> list[str]:
    return [i["id"] for i in (await listed(partner, 1, 200, **q))["content"]]


async def item_of(partner: ZapiPartner, inst: ZapiInstance) -> Json:
    items: list[Json] = (await listed(partner))["content"]
    (item,) = [i for i in items if i["id"] == inst.id]
    return item


async def me(inst: ZapiInstance) -> Json:
    r = await inst.get("me")
    assert r.status_code == 200, r.text
    body: Json = r.json()
    return body


async def payment_status(partner: ZapiPartner, inst: ZapiInstance) -> str:
    status: str = (await item_of(partner, inst))["paymentStatus"]
    return status


def on_demand(inst: ZapiInstance, action: str, token: str | None = None) -> str:
    return f"/instances/{inst.id}/token/{token or inst.token}/integrator/on-demand/{action}"


async def green_delete(client: httpx.AsyncClient, partner: ZapiPartner, inst: ZapiInstance) -> None:
    """Delete through the GREEN-API façade, which has no Z-API deletion rules."""
    r = await client.post(
        f"/partner/deleteInstanceAccount/{partner.token}", json={"idInstance": int(inst.id)}
    )
    assert r.status_code == 200, r.text


# --- GET /instances: shape ---------------------------------------------------------------


async def test_list_envelope_and_item_keys_in_order(new_partner: NewPartner) -> None:
    partner = await new_partner()
    before = now_ms()
    r = await partner.create("shop")
    assert r.status_code == 200, r.text
    created = r.json()

    r = await partner.list(1, 15)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    body = r.json()
    assert list(body) == ENVELOPE_KEYS
    assert body["total"] == 1
    assert body["totalPage"] == 1
    assert body["pageSize"] == 15
    assert body["page"] == 1
    (item,) = body["content"]
    assert list(item) == ITEM_KEYS
    assert item["id"] == created["id"]
    assert isinstance(item["id"], str)
    assert item["token"] == created["token"]
    assert item["name"] == "shop"
    assert isinstance(item["tenant"], str) and item["tenant"]
    assert ISO_Z.match(item["created"]), item["created"]
    created_at = datetime.fromisoformat(item["created"].replace("Z", "+00:00"))
    assert before - 1000 <= created_at.timestamp() * 1000 <= now_ms() + 1000
    assert isinstance(item["due"], int) and not isinstance(item["due"], bool)
    assert item["due"] == created["due"]
    assert item["paymentStatus"] == "TRIAL"
    assert all(item[k] == "" for k in CALLBACK_KEYS), item
    assert item["phoneConnected"] is False
    assert item["whatsappConnected"] is False
    assert item["middleware"] == "web"


async def test_list_tenant_is_the_same_for_a_partner_and_differs_between_partners(
    new_partner: NewPartner,
) -> None:
    a, b = await new_partner(), await new_partner()
    for p in (a, a, b):
        await p.new_instance()
    tenants_a = {i["tenant"] for i in (await listed(a))["content"]}
    tenants_b = {i["tenant"] for i in (await listed(b))["content"]}
    assert len(tenants_a) == 1
    assert len(tenants_b) == 1
    assert tenants_a != tenants_b


async def test_list_is_in_creation_order_and_shows_only_the_partners_own(
    new_partner: NewPartner,
) -> None:
    mine, other = await new_partner(), await new_partner()
    own = [(await mine.new_instance(f"m{i}")).id for i in range(3)]
    theirs = (await other.new_instance("o")).id
    assert await ids_listed(mine) == own
    assert await ids_listed(other) == [theirs]
    assert (await listed(mine, query=theirs))["content"] == []


async def test_list_of_a_partner_without_instances_is_empty(new_partner: NewPartner) -> None:
    partner = await new_partner()
    body = await listed(partner, 1, 15)
    assert body == {"total": 0, "totalPage": 0, "pageSize": 15, "page": 1, "content": []}


# --- GET /instances: paging ------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"pageSize": "15"}, ["page", "required"]),
        ({"page": "1"}, ["pageSize", "required"]),
        ({}, ["required"]),
        ({"page": "", "pageSize": "15"}, ["page"]),
        ({"page": "abc", "pageSize": "15"}, ["page"]),
        ({"page": "1", "pageSize": "x"}, ["pageSize"]),
        ({"page": "1.5", "pageSize": "15"}, ["page"]),
        ({"page": "-1", "pageSize": "15"}, ["page"]),
        ({"page": "1", "pageSize": "-5"}, ["pageSize"]),
        ({"page": "0", "pageSize": "15"}, ["page"]),
        ({"page": "1", "pageSize": "0"}, ["pageSize"]),
        ({"page": "1", "pageSize": "201"}, ["pageSize", "200"]),
        ({"page": "1", "pageSize": "99999999999999999999"}, ["pageSize"]),
        ({"page": "+1", "pageSize": "15"}, ["page"]),
        ({"page": "1", "pageSize": "1e2"}, ["pageSize"]),
        ({"page": "\u0661", "pageSize": "15"}, ["page"]),
        ({"page": "1", "pageSize": "\uff11\uff15"}, ["pageSize"]),
    ],
)
async def test_list_paging_parameters_are_checked(
    client: httpx.AsyncClient, new_partner: NewPartner, params: dict[str, str], words: list[str]
) -> None:
    partner = await new_partner()
    r = await client.get("/instances", params=params, headers=partner.auth)
    assert_error(r, 400, *words)


async def test_list_page_size_200_is_allowed(new_partner: NewPartner) -> None:
    partner = await new_partner()
    await partner.new_instance()
    body = await listed(partner, 1, 200)
    assert body["pageSize"] == 200
    assert body["total"] == 1


async def test_list_pages_split_by_page_size_and_total_page_is_ceiling(
    new_partner: NewPartner,
) -> None:
    partner = await new_partner()
    ids = [(await partner.new_instance(f"n{i}")).id for i in range(5)]
    seen: list[str] = []
    for page in (1, 2, 3):
        body = await listed(partner, page, 2)
        assert body["total"] == 5
        assert body["totalPage"] == math.ceil(5 / 2) == 3
        assert body["page"] == page
        assert body["pageSize"] == 2
        assert len(body["content"]) == (2 if page < 3 else 1)
        seen += [i["id"] for i in body["content"]]
    assert seen == ids
    exact = await listed(partner, 1, 5)
    assert exact["totalPage"] == 1
    assert len(exact["content"]) == 5


async def test_list_page_past_the_end_is_empty(new_partner: NewPartner) -> None:
    partner = await new_partner()
    for _ in range(2):
        await partner.new_instance()
    body = await listed(partner, 3, 2)
    assert body["content"] == []
    assert body["total"] == 2
    assert body["totalPage"] == 1
    assert body["page"] == 3


@pytest.mark.parametrize(
    "filters",
    [{}, {"query": "far"}, {"middleware": "web"}],
    ids=["unfiltered", "query", "middleware"],
)
@pytest.mark.parametrize("page", [10_737_420, 999_999_999])
async def test_list_a_very_far_page_is_empty(
    new_partner: NewPartner, filters: dict[str, str], page: int
) -> None:
    # (page - 1) * pageSize passes 2**31 here: the window must not overflow a 32-bit column.
    partner = await new_partner()
    for _ in range(2):
        await partner.new_instance("far")
    body = await listed(partner, page, 200, **filters)
    assert body["content"] == []
    assert body["total"] == 2
    assert body["page"] == page


# --- GET /instances: query and middleware ------------------------------------------------


async def test_query_matches_name_case_insensitively_as_a_substring(
    new_partner: NewPartner,
) -> None:
    partner = await new_partner()
    shop = (await partner.new_instance("Main Shop")).id
    shopping = (await partner.new_instance("shopping list")).id
    other = (await partner.new_instance("support")).id
    assert await ids_listed(partner, query="SHOP") == [shop, shopping]
    assert await ids_listed(partner, query="in sh") == [shop]
    assert await ids_listed(partner, query="port") == [other]
    assert await ids_listed(partner, query="nothing like it") == []
    body = await listed(partner, 1, 1, query="shop")
    assert body["total"] == 2
    assert body["totalPage"] == 2
    assert [i["id"] for i in body["content"]] == [shop]
    assert [i["id"] for i in (await listed(partner, 2, 1, query="shop"))["content"]] == [shopping]


async def test_query_folds_case_of_non_ascii_names(new_partner: NewPartner) -> None:
    partner = await new_partner()
    cafe = (await partner.new_instance("Café Central")).id
    street = (await partner.new_instance("Hauptstraße")).id
    greek = (await partner.new_instance("Ωμέγα")).id
    await partner.new_instance("Cafe plain")
    assert await ids_listed(partner, query="CAFÉ") == [cafe]
    assert await ids_listed(partner, query="café") == [cafe]
    assert await ids_listed(partner, query="é c") == [cafe]
    assert await ids_listed(partner, query="STRASSE") == [street]
    assert await ids_listed(partner, query="ΩΜΈΓΑ") == [greek]


async def test_query_matches_an_id_by_prefix(new_partner: NewPartner) -> None:
    partner = await new_partner()
    first = await partner.new_instance("alpha")
    second = await partner.new_instance("beta")
    assert await ids_listed(partner, query=first.id) == [first.id]
    assert await ids_listed(partner, query=second.id) == [second.id]
    assert first.id in await ids_listed(partner, query=first.id[:7])
    # A digit query still matches names too.
    numbered = await partner.new_instance("store 4242")
    assert numbered.id in await ids_listed(partner, query="4242")


async def test_query_percent_underscore_and_backslash_are_literal(
    new_partner: NewPartner,
) -> None:
    partner = await new_partner()
    percent = (await partner.new_instance("100% pure")).id
    underscore = (await partner.new_instance("a_b")).id
    plain = (await partner.new_instance("axb")).id
    backslash = (await partner.new_instance("back\\slash")).id
    assert await ids_listed(partner, query="%") == [percent]
    assert await ids_listed(partner, query="_") == [underscore]
    assert await ids_listed(partner, query="a_b") == [underscore]
    assert await ids_listed(partner, query="axb") == [plain]
    assert await ids_listed(partner, query="0%") == [percent]
    assert await ids_listed(partner, query="\\") == [backslash]
    assert await ids_listed(partner, query="%%") == []


async def test_middleware_filter_follows_is_device(new_partner: NewPartner) -> None:
    partner = await new_partner()
    web = (await partner.new_instance("w1")).id
    web_explicit = (await partner.new_instance("w2", isDevice=False)).id
    mobile = (await partner.new_instance("m1", isDevice=True)).id

    everything = await listed(partner)
    kinds = {i["id"]: i["middleware"] for i in everything["content"]}
    assert kinds == {web: "web", web_explicit: "web", mobile: "mobile"}

    webs = await listed(partner, middleware="web")
    assert [i["id"] for i in webs["content"]] == [web, web_explicit]
    assert webs["total"] == 2
    mobiles = await listed(partner, middleware="mobile")
    assert [i["id"] for i in mobiles["content"]] == [mobile]
    assert mobiles["total"] == 1
    assert await ids_listed(partner, middleware="mobile", query="w") == []
    assert await ids_listed(partner, middleware="web", query="w2") == [web_explicit]


async def test_middleware_must_be_web_or_mobile(new_partner: NewPartner) -> None:
    partner = await new_partner()
    r = await partner.list(middleware="bogus")
    assert_error(r, 400, "middleware")


async def test_query_longer_than_255_is_refused(new_partner: NewPartner) -> None:
    partner = await new_partner()
    await partner.new_instance("x")
    r = await partner.list(query="x" * 256)
    # Like every other bad parameter: 400 and Z-API's {"error": text}.
    assert_error(r, 400, "query")
    assert (await listed(partner, query="x" * 255))["total"] == 0


# --- GET /instances: deleted, auth -------------------------------------------------------


async def test_deleted_instances_are_not_listed(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    insts = [await partner.new_instance(f"d{i}") for i in range(3)]
    await green_delete(client, partner, insts[1])
    body = await listed(partner)
    assert body["total"] == 2
    assert [i["id"] for i in body["content"]] == [insts[0].id, insts[2].id]
    assert await ids_listed(partner, query=insts[1].id) == []
    assert await ids_listed(partner, query="d1") == []
    assert (await listed(partner, query="d"))["total"] == 2


async def test_paging_after_deletions_still_reaches_every_instance(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    insts = [await partner.new_instance(f"p{i}") for i in range(5)]
    await green_delete(client, partner, insts[0])
    await green_delete(client, partner, insts[3])
    first = await listed(partner, 1, 2)
    assert first["total"] == 3
    seen: list[str] = []
    for page in range(1, first["totalPage"] + 1):
        seen += [i["id"] for i in (await listed(partner, page, 2))["content"]]
    assert seen == [insts[1].id, insts[2].id, insts[4].id]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer gac.wrong"},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic dXNlcjpwYXNz"},
    ],
    ids=["none", "wrong", "empty", "basic"],
)
async def test_list_without_a_valid_bearer_token_is_401(
    client: httpx.AsyncClient, new_partner: NewPartner, headers: dict[str, str]
) -> None:
    partner = await new_partner()
    await partner.new_instance()
    r = await client.get("/instances", params={"page": "1", "pageSize": "15"}, headers=headers)
    assert_error(r, 401)


async def test_list_with_the_partner_token_as_client_token_is_401(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    r = await client.get(
        "/instances",
        params={"page": "1", "pageSize": "15"},
        headers={"Client-Token": partner.token},
    )
    assert_error(r, 401)


# --- POST /instances/integrator/on-demand ------------------------------------------------


async def test_create_answers_id_token_and_trial_end(new_partner: NewPartner) -> None:
    partner = await new_partner()
    before = now_ms()
    r = await partner.create("fresh")
    after = now_ms()
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["id", "token", "due"]
    assert isinstance(body["id"], str) and body["id"].isdigit()
    assert isinstance(body["token"], str) and len(body["token"]) >= 16
    assert isinstance(body["due"], int) and not isinstance(body["due"], bool)
    assert before + 48 * HOUR_MS <= body["due"] <= after + 48 * HOUR_MS
    inst = ZapiInstance(partner.http, body["id"], body["token"])
    info = await me(inst)
    assert info["id"] == body["id"]
    assert info["token"] == body["token"]
    assert info["due"] == body["due"]
    assert info["paymentStatus"] == "TRIAL"
    assert info["name"] == "fresh"
    assert ISO_Z.match(info["created"]), info["created"]
    assert (await inst.get("status")).status_code == 200


async def test_create_gives_distinct_ids_and_tokens(new_partner: NewPartner) -> None:
    partner = await new_partner()
    insts = [await partner.new_instance() for _ in range(4)]
    assert len({i.id for i in insts}) == 4
    assert len({i.token for i in insts}) == 4


async def test_create_stores_every_option(new_partner: NewPartner) -> None:
    partner = await new_partner()
    urls = {key: f"https://hooks.example.com/{key}" for key in SETTABLE_CALLBACKS}
    options: Json = {
        "sessionName": "Front desk",
        **urls,
        "callRejectAuto": True,
        "callRejectMessage": "Please write instead",
        "autoReadMessage": True,
        "autoReadStatus": True,
        "isDevice": True,
        "businessDevice": True,
        "disableEnqueueWhenDisconnected": True,
    }
    inst = await partner.new_instance("everything", **options)

    info = await me(inst)
    assert info["name"] == "everything"
    assert info["sessionName"] == "Front desk"
    for key, url in urls.items():
        assert info[key] == url, key
    assert info["callRejectAuto"] is True
    assert info["callRejectMessage"] == "Please write instead"
    assert info["autoReadMessage"] is True
    assert info["autoReadStatus"] is True
    assert info["isDevice"] is True
    assert info["middleware"] == "mobile"
    assert info["businessDevice"] is True
    assert info["disableEnqueueWhenDisconnected"] is True

    item = await item_of(partner, inst)
    for key, url in urls.items():
        assert item[key] == url, key
    assert item["receivedStatusCallbackUrl"] == ""
    assert item["middleware"] == "mobile"
    assert item["name"] == "everything"


async def test_create_defaults_when_options_are_absent(new_partner: NewPartner) -> None:
    partner = await new_partner()
    info = await me(await partner.new_instance("bare"))
    for key in SETTABLE_CALLBACKS:
        assert info[key] == "", key
    assert info["sessionName"] == ""
    assert info["callRejectAuto"] is False
    assert info["callRejectMessage"] == ""
    assert info["autoReadMessage"] is False
    assert info["autoReadStatus"] is False
    assert info["isDevice"] is False
    assert info["middleware"] == "web"
    assert info["businessDevice"] is False
    assert info["disableEnqueueWhenDisconnected"] is False
    assert info["withCalls"] is False


async def test_create_stores_false_options_as_false(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance(
        "off",
        callRejectAuto=False,
        autoReadMessage=False,
        autoReadStatus=False,
        isDevice=False,
        businessDevice=False,
        disableEnqueueWhenDisconnected=False,
    )
    info = await me(inst)
    for key in (
        "callRejectAuto",
        "autoReadMessage",
        "autoReadStatus",
        "isDevice",
        "businessDevice",
        "disableEnqueueWhenDisconnected",
    ):
        assert info[key] is False, key


async def test_create_ignores_unknown_fields(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance("extra", somethingNew=1)
    assert (await me(inst))["name"] == "extra"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, ["name"]),
        ({"name": ""}, ["name"]),
        ({"name": None}, ["name"]),
        ({"name": 123}, ["name"]),
        ({"name": ["x"]}, ["name"]),
        ({"name": "x" * 256}, ["name"]),
        ({"name": "gpj.\u202eexe"}, ["name", "control"]),
        ({"name": "a\u2066b"}, ["name", "control"]),
        ({"name": "a\x85b"}, ["name", "control"]),
        ({"name": "x", "sessionName": 5}, ["sessionName"]),
        ({"name": "x", "callRejectAuto": "yes"}, ["callRejectAuto"]),
        ({"name": "x", "callRejectAuto": 1}, ["callRejectAuto"]),
        ({"name": "x", "autoReadMessage": "true"}, ["autoReadMessage"]),
        ({"name": "x", "autoReadStatus": 0}, ["autoReadStatus"]),
        ({"name": "x", "isDevice": "false"}, ["isDevice"]),
        ({"name": "x", "businessDevice": []}, ["businessDevice"]),
        ({"name": "x", "disableEnqueueWhenDisconnected": "no"}, ["disableEnqueue"]),
        ({"name": "x", "callRejectMessage": 7}, ["callRejectMessage"]),
        ({"name": "x", "receivedCallbackUrl": 7}, ["receivedCallbackUrl"]),
        ({"name": "x", "receivedCallbackUrl": "ftp://x"}, ["http"]),
        ({"name": "x", "receivedCallbackUrl": "http://u:p@h.example/"}, ["user name"]),
        ({"name": "x", "deliveryCallbackUrl": "not a url"}, ["http"]),
        ({"name": "x", "connectedCallbackUrl": "https://"}, ["http"]),
        ({"name": "x", "presenceChatCallbackUrl": "javascript:alert(1)"}, ["http"]),
        (["name"], ["object"]),
        ("name", ["object"]),
    ],
)
async def test_create_refuses_bad_bodies_and_creates_nothing(
    client: httpx.AsyncClient, new_partner: NewPartner, body: Any, words: list[str]
) -> None:
    partner = await new_partner()
    await partner.new_instance("keep")
    r = await client.post("/instances/integrator/on-demand", json=body, headers=partner.auth)
    assert_error(r, 400, *words)
    assert (await listed(partner))["total"] == 1


async def test_create_with_no_body_or_bad_json_is_400(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    r = await client.post("/instances/integrator/on-demand", headers=partner.auth)
    assert_error(r, 400, "name")
    r = await client.post(
        "/instances/integrator/on-demand",
        content=b'{"name": ',
        headers={**partner.auth, "Content-Type": "application/json"},
    )
    assert_error(r, 400, "json")
    assert (await listed(partner))["total"] == 0


async def test_create_with_a_non_json_content_type_is_415(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    for headers in ({"Content-Type": "text/plain"}, {}):
        r = await client.post(
            "/instances/integrator/on-demand",
            content=b'{"name": "typed"}',
            headers={**partner.auth, **headers},
        )
        assert_error(r, 415, "application/json")
    r = await client.post(
        "/instances/integrator/on-demand",
        content=b'{"name": "typed"}',
        headers={**partner.auth, "Content-Type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200, r.text
    assert (await listed(partner))["total"] == 1


async def test_create_without_a_valid_bearer_token_is_401(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    for headers in ({}, {"Authorization": "Bearer gac.nope"}, {"Authorization": partner.token}):
        r = await client.post(
            "/instances/integrator/on-demand", json={"name": "x"}, headers=headers
        )
        assert_error(r, 401)
    assert (await listed(partner))["total"] == 0


async def test_wrong_http_method_is_405(client: httpx.AsyncClient, new_partner: NewPartner) -> None:
    partner = await new_partner()
    r = await client.get("/instances/integrator/on-demand", headers=partner.auth)
    assert_error(r, 405)
    r = await client.delete("/instances", headers=partner.auth)
    assert_error(r, 405)


# --- The account Client-Token ----------------------------------------------------------


async def enable_client_token(client: httpx.AsyncClient, partner: ZapiPartner) -> str:
    r = await client.post("/admin/client-token", headers=partner.auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["clientToken"]
    token: str = body["clientToken"]
    assert re.fullmatch(r"F[0-9a-f]{32}S", token), token
    return token


async def test_create_with_only_the_account_client_token(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    client_token = await enable_client_token(client, partner)
    r = await client.post(
        "/instances/integrator/on-demand",
        json={"name": "by client token", "isDevice": True},
        headers={"Client-Token": client_token},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["id", "token", "due"]
    item = await item_of(partner, ZapiInstance(client, body["id"], body["token"]))
    assert item["name"] == "by client token"
    assert item["middleware"] == "mobile"
    assert item["paymentStatus"] == "TRIAL"
    # Its instance routes now want the Client-Token too.
    inst = ZapiInstance(client, body["id"], body["token"], client_token)
    assert (await me(inst))["name"] == "by client token"


async def test_create_with_a_wrong_client_token_is_401(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    other = await new_partner()
    real = await enable_client_token(client, partner)
    foreign = await enable_client_token(client, other)
    for token in ("F" + "0" * 32 + "S", real + "x", partner.token):
        r = await client.post(
            "/instances/integrator/on-demand", json={"name": "x"}, headers={"Client-Token": token}
        )
        assert_error(r, 401)
    assert (await listed(partner))["total"] == 0
    # Another partner's Client-Token creates for that partner, never for this one.
    r = await client.post(
        "/instances/integrator/on-demand",
        json={"name": "theirs"},
        headers={"Client-Token": foreign},
    )
    assert r.status_code == 200, r.text
    assert (await listed(partner))["total"] == 0
    assert (await listed(other))["total"] == 1


async def test_create_with_a_client_token_that_was_turned_off_is_401(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    old = await enable_client_token(client, partner)
    r = await client.delete("/admin/client-token", headers=partner.auth)
    assert r.status_code == 200
    r = await client.post(
        "/instances/integrator/on-demand", json={"name": "x"}, headers={"Client-Token": old}
    )
    assert_error(r, 401)
    # A new one replaces the old one.
    new = await enable_client_token(client, partner)
    assert new != old
    r = await client.post(
        "/instances/integrator/on-demand", json={"name": "x"}, headers={"Client-Token": old}
    )
    assert_error(r, 401)
    r = await client.post(
        "/instances/integrator/on-demand", json={"name": "x"}, headers={"Client-Token": new}
    )
    assert r.status_code == 200, r.text


async def test_client_token_without_bearer_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post("/admin/client-token")
    assert_error(r, 401)


async def test_json_routes_refuse_a_non_json_content_type(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    plain = {**partner.auth, "Content-Type": "text/plain"}
    r = await client.post(on_demand(inst, "subscription"), content=b"{}", headers=plain)
    assert_error(r, 415)
    r = await client.put(
        on_demand(inst, "subscription/update"), content=b'{"withCalls": true}', headers=plain
    )
    assert_error(r, 415)
    body = b'{"instances": [{"id": "1", "token": "t"}]}'
    r = await client.post(
        "/instances/integrator/on-demand/batch-delete", content=body, headers=plain
    )
    assert_error(r, 415)
    assert await payment_status(partner, inst) == "TRIAL"


async def test_green_created_instances_are_listed_as_subscribed(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    r = await client.post(f"/partner/createInstance/{partner.token}", json={"name": "green"})
    assert r.status_code == 200, r.text
    created = r.json()
    zapi = await partner.new_instance("zapi")
    body = await listed(partner)
    assert [i["id"] for i in body["content"]] == [str(created["idInstance"]), zapi.id]
    green = body["content"][0]
    assert list(green) == ITEM_KEYS
    assert green["token"] == created["apiTokenInstance"]
    assert green["name"] == "green"
    assert green["paymentStatus"] == "SUBSCRIBED"
    assert green["middleware"] == "web"


# --- Subscription lifecycle ----------------------------------------------------------------


async def test_subscribe_turns_a_trial_into_a_monthly_subscription(
    new_partner: NewPartner,
) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert await payment_status(partner, inst) == "TRIAL"
    before = now_ms()
    r = await partner.subscribe(inst)
    after = now_ms()
    assert r.status_code == 201, r.text
    item = await item_of(partner, inst)
    assert item["paymentStatus"] == "SUBSCRIBED"
    assert item["due"] in {month_end(before), month_end(after)}
    info = await me(inst)
    assert info["paymentStatus"] == "SUBSCRIBED"
    assert info["due"] == item["due"]
    assert info["withCalls"] is False
    assert (await inst.get("status")).status_code == 200


async def test_subscribe_with_calls(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    r = await partner.subscribe(inst, withCalls=True)
    assert r.status_code == 201, r.text
    info = await me(inst)
    assert info["paymentStatus"] == "SUBSCRIBED"
    assert info["withCalls"] is True


async def test_subscribe_refuses_a_bad_with_calls(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    r = await partner.subscribe(inst, withCalls="yes")
    assert_error(r, 400, "withCalls")
    assert await payment_status(partner, inst) == "TRIAL"


async def test_subscribing_twice_keeps_the_subscription(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst)).status_code == 201
    first = await item_of(partner, inst)
    assert (await partner.subscribe(inst)).status_code == 201
    again = await item_of(partner, inst)
    assert again["paymentStatus"] == "SUBSCRIBED"
    assert again["due"] == first["due"]


async def test_update_subscription_adds_calls(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst)).status_code == 201
    r = await partner.update_subscription(inst, withCalls=True)
    assert r.status_code == 201, r.text
    info = await me(inst)
    assert info["withCalls"] is True
    assert info["paymentStatus"] == "SUBSCRIBED"

    # The path without "on-demand" (as the live docs show it) does the same.
    alias = await partner.new_instance()
    assert (await partner.subscribe(alias)).status_code == 201
    r = await client.put(
        f"/instances/{alias.id}/token/{alias.token}/integrator/subscription/update",
        json={"withCalls": True},
        headers=partner.auth,
    )
    assert r.status_code == 201, r.text
    assert (await me(alias))["withCalls"] is True


@pytest.mark.parametrize("body", [{"withCalls": False}, {}, {"withCalls": "true"}])
async def test_update_subscription_only_adds_calls(new_partner: NewPartner, body: Json) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst, withCalls=True)).status_code == 201
    r = await partner.update_subscription(inst, **body)
    assert_error(r, 400, "withCalls")
    assert (await me(inst))["withCalls"] is True


async def test_update_subscription_of_a_trial_is_400(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    r = await partner.update_subscription(inst, withCalls=True)
    assert_error(r, 400, "subscription")
    info = await me(inst)
    assert info["paymentStatus"] == "TRIAL"
    assert info["withCalls"] is False


async def test_cancel_a_subscription_keeps_it_working_to_the_month_end(
    new_partner: NewPartner,
) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst)).status_code == 201
    due = (await item_of(partner, inst))["due"]
    r = await partner.cancel(inst)
    assert r.status_code == 201, r.text
    item = await item_of(partner, inst)
    assert item["paymentStatus"] == "CANCELING"
    assert item["due"] == due == month_end(now_ms())
    r = await inst.get("status")
    assert r.status_code == 200, r.text
    assert (await me(inst))["paymentStatus"] == "CANCELING"
    # Canceling again changes nothing.
    assert (await partner.cancel(inst)).status_code == 201
    assert await item_of(partner, inst) == item


async def test_update_subscription_of_a_canceling_one_is_400(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst)).status_code == 201
    assert (await partner.cancel(inst)).status_code == 201
    assert_error(await partner.update_subscription(inst, withCalls=True), 400)
    assert (await me(inst))["withCalls"] is False


async def test_cancel_a_trial_ends_it_at_once(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    other = await partner.new_instance()
    before = now_ms()
    r = await partner.cancel(inst)
    assert r.status_code == 201, r.text
    item = await item_of(partner, inst)
    assert item["paymentStatus"] == "CANCELED"
    assert before <= item["due"] <= now_ms()
    for action in ("status", "me", "qr-code"):
        r = await inst.get(action)
        assert r.status_code == 404, (action, r.text)
        assert r.json() == NOT_FOUND
    r = await inst.send_text("5544999999999", "hi")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND
    # Still listed (until deleted); the other instance is untouched.
    assert (await listed(partner))["total"] == 2
    assert await payment_status(partner, other) == "TRIAL"
    assert (await other.get("status")).status_code == 200
    # Canceling again leaves it canceled.
    assert (await partner.cancel(inst)).status_code == 201
    assert await item_of(partner, inst) == item


async def test_subscribe_after_cancel_brings_it_back(new_partner: NewPartner) -> None:
    partner = await new_partner()
    trial = await partner.new_instance()
    assert (await partner.cancel(trial)).status_code == 201
    assert (await trial.get("status")).status_code == 404
    assert (await partner.subscribe(trial)).status_code == 201
    item = await item_of(partner, trial)
    assert item["paymentStatus"] == "SUBSCRIBED"
    assert item["due"] == month_end(now_ms())
    assert (await trial.get("status")).status_code == 200

    paid = await partner.new_instance()
    assert (await partner.subscribe(paid)).status_code == 201
    assert (await partner.cancel(paid)).status_code == 201
    assert await payment_status(partner, paid) == "CANCELING"
    assert (await partner.subscribe(paid)).status_code == 201
    assert await payment_status(partner, paid) == "SUBSCRIBED"


SUBSCRIPTION_CALLS = [
    ("POST", "subscription", None),
    ("POST", "cancel", None),
    ("PUT", "subscription/update", {"withCalls": True}),
    ("DELETE", "delete", None),
]


@pytest.mark.parametrize(("method", "action", "body"), SUBSCRIPTION_CALLS)
async def test_subscription_routes_need_the_instance_token_and_ownership(
    client: httpx.AsyncClient,
    new_partner: NewPartner,
    method: str,
    action: str,
    body: Json | None,
) -> None:
    owner, stranger = await new_partner(), await new_partner()
    inst = await owner.new_instance()
    await stranger.new_instance()
    wrong_token = "0" * len(inst.token)
    cases = [
        (on_demand(inst, action, wrong_token), owner.auth),
        (on_demand(inst, action, inst.token + "0"), owner.auth),
        (on_demand(inst, action), stranger.auth),
        (on_demand(ZapiInstance(client, "9" * 10, inst.token), action), owner.auth),
        (on_demand(ZapiInstance(client, "not-an-id", inst.token), action), owner.auth),
        (on_demand(ZapiInstance(client, "1" * 40, inst.token), action), owner.auth),
    ]
    for path, headers in cases:
        r = await client.request(method, path, json=body, headers=headers)
        assert r.status_code == 404, (path, r.text)
        assert r.json() == NOT_FOUND
    for headers in ({}, {"Authorization": "Bearer gac.wrong"}):
        r = await client.request(method, on_demand(inst, action), json=body, headers=headers)
        assert_error(r, 401)
    item = await item_of(owner, inst)
    assert item["paymentStatus"] == "TRIAL"


async def test_update_alias_needs_the_instance_token_and_ownership(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    owner, stranger = await new_partner(), await new_partner()
    inst = await owner.new_instance()
    assert (await owner.subscribe(inst)).status_code == 201

    def alias(token: str) -> str:
        return f"/instances/{inst.id}/token/{token}/integrator/subscription/update"

    body = {"withCalls": True}
    for path, headers in ((alias("0" * 50), owner.auth), (alias(inst.token), stranger.auth)):
        r = await client.put(path, json=body, headers=headers)
        assert r.status_code == 404, r.text
        assert r.json() == NOT_FOUND
    assert_error(await client.put(alias(inst.token), json=body), 401)
    assert (await me(inst))["withCalls"] is False


# --- Deletion under the strict rules (default server: 40 days of grace) ------------------


async def test_delete_a_trial_is_409(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert_error(await partner.delete(inst), 409, "trial")
    assert await payment_status(partner, inst) == "TRIAL"
    assert (await inst.get("status")).status_code == 200


async def test_delete_a_subscribed_or_canceling_instance_is_409(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst)).status_code == 201
    assert_error(await partner.delete(inst), 409, "cancel")
    assert (await partner.cancel(inst)).status_code == 201
    assert_error(await partner.delete(inst), 409)
    assert await payment_status(partner, inst) == "CANCELING"
    assert (await listed(partner))["total"] == 1


async def test_delete_a_canceled_trial_within_grace_is_409(new_partner: NewPartner) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.cancel(inst)).status_code == 201
    assert_error(await partner.delete(inst), 409, "grace")
    assert await payment_status(partner, inst) == "CANCELED"


async def test_delete_a_connected_instance_is_409(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    assert (await partner.subscribe(inst)).status_code == 201
    phone = new_phone()
    await authorize(client, Instance(int(inst.id), inst.token, partner.token), phone)
    item = await item_of(partner, inst)
    assert item["phoneConnected"] is True
    assert item["whatsappConnected"] is True
    assert (await me(inst))["connected"] is True
    assert_error(await partner.delete(inst), 409, "connected")
    assert (await inst.get("status")).json()["connected"] is True


async def test_batch_delete_answers_each_instance(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner, stranger = await new_partner(), await new_partner()
    trial = await partner.new_instance()
    canceled = await partner.new_instance()
    assert (await partner.cancel(canceled)).status_code == 201
    theirs = await stranger.new_instance()
    unknown = ZapiInstance(client, "9" * 10, "0" * 50)
    bad_token = ZapiInstance(client, trial.id, "0" * 50)
    malformed = ZapiInstance(client, "abc", "x")

    r = await partner.batch_delete(trial, canceled, unknown, theirs, bad_token, malformed)
    assert r.status_code == 200, r.text
    body = r.json()
    assert list(body) == ["instances"]
    answers = body["instances"]
    expected_ids = [trial.id, canceled.id, unknown.id, theirs.id, trial.id, "abc"]
    assert [a["id"] for a in answers] == expected_ids
    for answer in answers:
        assert answer["value"] is False, answer
        assert list(answer) == ["id", "value", "error"], answer
        assert isinstance(answer["error"], str) and answer["error"]
    assert "trial" in answers[0]["error"].lower()
    assert "grace" in answers[1]["error"].lower()
    assert [a["error"] for a in answers[2:]] == ["Instance not found"] * 4
    assert (await listed(partner))["total"] == 2
    assert (await listed(stranger))["total"] == 1


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({}, ["instances"]),
        ({"instances": []}, ["instances"]),
        ({"instances": "all"}, ["instances"]),
        ({"instances": [{"id": "1"}]}, ["token"]),
        ({"instances": [{"token": "t"}]}, ["id"]),
        ({"instances": [{"id": 1, "token": "t"}]}, ["id"]),
        ({"instances": [{"id": "1", "token": "t"}] * 101}, ["instances"]),
    ],
)
async def test_batch_delete_refuses_bad_bodies(
    client: httpx.AsyncClient, new_partner: NewPartner, body: Json, words: list[str]
) -> None:
    partner = await new_partner()
    r = await client.post(
        "/instances/integrator/on-demand/batch-delete", json=body, headers=partner.auth
    )
    assert_error(r, 400, *words)


async def test_batch_delete_without_bearer_is_401(
    client: httpx.AsyncClient, new_partner: NewPartner
) -> None:
    partner = await new_partner()
    inst = await partner.new_instance()
    body = {"instances": [{"id": inst.id, "token": inst.token}]}
    for headers in ({}, {"Authorization": "Bearer gac.wrong"}):
        r = await client.post(
            "/instances/integrator/on-demand/batch-delete", json=body, headers=headers
        )
        assert_error(r, 401)
    assert (await listed(partner))["total"] == 1
