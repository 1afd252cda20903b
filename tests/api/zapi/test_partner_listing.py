"""GET /instances, the Z-API partner listing: shape, paging, query and middleware filters,
deleted instances and authentication, against a live server on both databases.

Everything goes through tests/zapi_client.py, the way a Z-API integrator's own code calls
them; each test uses partners of its own, so tests share the server but not their data.
"""

from __future__ import annotations

import math
from datetime import datetime

import httpx
import pytest

from tests.api.zapi.partners import (
    CALLBACK_KEYS,
    ENVELOPE_KEYS,
    ISO_Z,
    ITEM_KEYS,
    NewPartner,
    assert_error,
    green_delete,
    ids_listed,
    listed,
    now_ms,
)

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
