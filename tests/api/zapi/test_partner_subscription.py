"""The Z-API subscription lifecycle: subscribe, update-subscription, cancel, and who may call
them, against a live server on both databases (each test with partners of its own).
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.zapi.partners import (
    NOT_FOUND,
    Json,
    NewPartner,
    assert_error,
    item_of,
    listed,
    me,
    month_end,
    now_ms,
    on_demand,
    payment_status,
)
from tests.zapi_client import ZapiInstance

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
