"""Z-API instance deletion under the default strict rules (40 days of grace: nothing is
deletable yet), single and batched, on a live server on both databases.

Deletion under other settings is in test_deletion.py.
"""

from __future__ import annotations

import httpx
import pytest

from tests.api.zapi.partners import (
    Json,
    NewPartner,
    assert_error,
    item_of,
    listed,
    me,
    payment_status,
)
from tests.sending import new_phone
from tests.support import Instance, authorize
from tests.zapi_client import ZapiInstance

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
