"""POST /instances/integrator/on-demand, the Z-API instance creation, and the account
Client-Token, against a live server on both databases (each test with partners of its own).
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from tests.api.zapi.partners import (
    HOUR_MS,
    ISO_Z,
    ITEM_KEYS,
    SETTABLE_CALLBACKS,
    Json,
    NewPartner,
    assert_error,
    item_of,
    listed,
    me,
    now_ms,
    on_demand,
    payment_status,
)
from tests.zapi_client import ZapiInstance, ZapiPartner

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
