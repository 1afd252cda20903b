"""Z-API instance deletion and trials under non-default settings, on dedicated live servers.

The default server keeps Z-API's 40 days of grace, so nothing is deletable there; these
servers run with no grace (strict rules otherwise), with the "disconnected" rule, or with
trials that end as soon as they start.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from fleetgate.context import Context
from fleetgate.services import partners
from tests.support import (
    Instance,
    LiveServer,
    authorize,
    server_fixture,
    wait_for_state,
)
from tests.zapi_client import ZapiInstance, ZapiPartner

NewPartner = Callable[[], Awaitable[ZapiPartner]]
Json = dict[str, Any]
NOT_FOUND = {"error": "Instance not found"}
QUIET = {"enabled": False}


no_grace_server = server_fixture(
    "nograce",
    "Strict deletion rules without a grace period, on a fresh database of each backend.",
    ratelimits=QUIET,
    zapi={"deletion_grace_days": 0},
)
disconnected_server = server_fixture(
    "disconnected",
    "Deletion allowed whenever the instance is disconnected, on each backend.",
    ratelimits=QUIET,
    zapi={"deletion_rule": "disconnected"},
)
expiring_server = server_fixture(
    "expiring",
    "Trials of zero hours (expired at once), strict rules without grace, on each backend.",
    ratelimits=QUIET,
    zapi={"trial_hours": 0, "deletion_grace_days": 0},
)


async def _partner_factory(
    server: LiveServer,
) -> AsyncIterator[tuple[httpx.AsyncClient, NewPartner]]:
    ctx = Context.from_settings(server.settings)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def make() -> ZapiPartner:
            async with ctx.db.transaction() as session:
                _, token = await partners.create_partner(
                    session=session, name=f"del-{secrets.token_hex(6)}"
                )
            return ZapiPartner(http, token)

        yield http, make
    await ctx.db.dispose()


@pytest.fixture
async def no_grace(no_grace_server: LiveServer) -> AsyncIterator[NewPartner]:
    """Factory: a Z-API client for a fresh partner of the no-grace server."""
    async for _, make in _partner_factory(no_grace_server):
        yield make


@pytest.fixture
async def disconnected(
    disconnected_server: LiveServer,
) -> AsyncIterator[tuple[httpx.AsyncClient, NewPartner]]:
    """The disconnected-rule server's client and a factory of fresh partners on it."""
    async for pair in _partner_factory(disconnected_server):
        yield pair


@pytest.fixture
async def expiring(expiring_server: LiveServer) -> AsyncIterator[NewPartner]:
    """Factory: a Z-API client for a fresh partner of the zero-trial server."""
    async for _, make in _partner_factory(expiring_server):
        yield make


def new_phone() -> str:
    """A random 11-digit number no test has used (the sandbox network is shared)."""
    return "79" + "".join(secrets.choice("0123456789") for _ in range(9))


async def listed_ids(partner: ZapiPartner) -> list[str]:
    r = await partner.list(1, 200)
    assert r.status_code == 200, r.text
    body = r.json()
    ids = [i["id"] for i in body["content"]]
    assert body["total"] == len(ids)
    return ids


async def green_listing(partner: ZapiPartner, inst: ZapiInstance) -> Json:
    r = await partner.http.get(f"/partner/getInstances/{partner.token}")
    assert r.status_code == 200, r.text
    (item,) = [i for i in r.json() if i["idInstance"] == int(inst.id)]
    return item  # type: ignore[no-any-return]


def assert_conflict(r: httpx.Response, word: str) -> None:
    assert r.status_code == 409, (r.status_code, r.text)
    body = r.json()
    assert list(body) == ["error"]
    assert word in body["error"].lower(), body


async def canceled_trial(partner: ZapiPartner, name: str = "gone") -> ZapiInstance:
    inst = await partner.new_instance(name)
    r = await partner.cancel(inst)
    assert r.status_code == 201, r.text
    return inst


# --- Strict rules, no grace ----------------------------------------------------------------


async def test_a_canceled_trial_is_deleted_for_good(no_grace: NewPartner) -> None:
    partner = await no_grace()
    keep = await partner.new_instance("keep")
    inst = await canceled_trial(partner)
    assert await listed_ids(partner) == [keep.id, inst.id]

    r = await partner.delete(inst)
    assert r.status_code == 200, r.text
    assert r.json() == {"value": True}

    assert await listed_ids(partner) == [keep.id]
    for action in ("status", "me"):
        r = await inst.get(action)
        assert r.status_code == 404, r.text
        assert r.json() == NOT_FOUND
    # Partner routes on it refuse it too: it is gone, not merely canceled.
    for r in (await partner.subscribe(inst), await partner.delete(inst)):
        assert r.status_code == 404, r.text
        assert r.json() == NOT_FOUND
    green = await green_listing(partner, inst)
    assert green["deleted"] is True
    assert green["timeDeleted"]
    assert (await green_listing(partner, keep))["deleted"] is False
    assert (await keep.get("status")).status_code == 200


async def test_without_grace_only_canceled_instances_are_deletable(
    no_grace: NewPartner,
) -> None:
    partner = await no_grace()
    trial = await partner.new_instance("trial")
    assert_conflict(await partner.delete(trial), "trial")
    paid = await partner.new_instance("paid")
    assert (await partner.subscribe(paid)).status_code == 201
    assert_conflict(await partner.delete(paid), "cancel")
    # Canceling a subscription ends it at the month end: not deletable before that.
    assert (await partner.cancel(paid)).status_code == 201
    assert_conflict(await partner.delete(paid), "")
    assert await listed_ids(partner) == [trial.id, paid.id]


async def test_batch_delete_of_two_eligible_instances(no_grace: NewPartner) -> None:
    partner = await no_grace()
    first, second = await canceled_trial(partner, "a"), await canceled_trial(partner, "b")
    r = await partner.batch_delete(first, second)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "instances": [{"id": first.id, "value": True}, {"id": second.id, "value": True}]
    }
    assert await listed_ids(partner) == []
    for inst in (first, second):
        assert (await green_listing(partner, inst))["deleted"] is True


async def test_batch_delete_mixed(no_grace: NewPartner) -> None:
    partner, stranger = await no_grace(), await no_grace()
    eligible = await canceled_trial(partner)
    trial = await partner.new_instance("trial")
    theirs = await canceled_trial(stranger)
    gone = await canceled_trial(partner)
    assert (await partner.delete(gone)).status_code == 200
    unknown = ZapiInstance(partner.http, "9" * 10, "0" * 50)

    r = await partner.batch_delete(eligible, trial, unknown, theirs, gone, eligible)
    assert r.status_code == 200, r.text
    answers = r.json()["instances"]
    assert [a["id"] for a in answers] == [
        eligible.id,
        trial.id,
        unknown.id,
        theirs.id,
        gone.id,
        eligible.id,
    ]
    assert answers[0] == {"id": eligible.id, "value": True}
    assert answers[1]["value"] is False
    assert "trial" in answers[1]["error"].lower()
    for answer in answers[2:]:
        assert answer == {"id": answer["id"], "value": False, "error": "Instance not found"}
    assert await listed_ids(partner) == [trial.id]
    assert await listed_ids(stranger) == [theirs.id]


# --- The "disconnected" rule -----------------------------------------------------------


async def test_disconnected_rule_deletes_a_trial_that_is_not_connected(
    disconnected: tuple[httpx.AsyncClient, NewPartner],
) -> None:
    _, new_partner = disconnected
    partner = await new_partner()
    trial = await partner.new_instance("trial")
    paid = await partner.new_instance("paid")
    assert (await partner.subscribe(paid)).status_code == 201
    for inst in (trial, paid):
        r = await partner.delete(inst)
        assert r.status_code == 200, r.text
        assert r.json() == {"value": True}
    assert await listed_ids(partner) == []
    r = await trial.get("status")
    assert r.status_code == 404
    assert r.json() == NOT_FOUND


async def test_disconnected_rule_keeps_a_connected_instance(
    disconnected: tuple[httpx.AsyncClient, NewPartner],
) -> None:
    http, new_partner = disconnected
    partner = await new_partner()
    inst = await partner.new_instance("linked")
    other = await partner.new_instance("idle")
    green = Instance(int(inst.id), inst.token, partner.token)
    await authorize(http, green, new_phone())

    assert_conflict(await partner.delete(inst), "connected")
    r = await partner.batch_delete(inst, other)
    assert r.status_code == 200, r.text
    answers = r.json()["instances"]
    assert answers[0]["value"] is False
    assert "connected" in answers[0]["error"].lower()
    assert answers[1] == {"id": other.id, "value": True}
    assert await listed_ids(partner) == [inst.id]
    assert (await inst.get("status")).json()["connected"] is True

    # Once disconnected, it may go.
    r = await inst.get("disconnect")
    assert r.status_code == 200, r.text
    await wait_for_state(http, green, "notAuthorized")
    r = await partner.delete(inst)
    assert r.status_code == 200, r.text
    assert await listed_ids(partner) == []


# --- Trials that have run out ------------------------------------------------------------


async def test_a_trial_that_ran_out_is_expired_and_stops_working(expiring: NewPartner) -> None:
    partner = await expiring()
    before = time.time_ns() // 1_000_000
    r = await partner.create("short")
    assert r.status_code == 200, r.text
    created = r.json()
    assert before <= created["due"] <= time.time_ns() // 1_000_000
    inst = ZapiInstance(partner.http, created["id"], created["token"])
    r = await partner.list(1, 15)
    (item,) = r.json()["content"]
    assert item["paymentStatus"] == "EXPIRED"
    assert item["due"] == created["due"]
    for action in ("status", "me"):
        r = await inst.get(action)
        assert r.status_code == 404, r.text
        assert r.json() == NOT_FOUND
    green = await green_listing(partner, inst)
    assert green["isExpired"] is True
    assert green["deleted"] is False


async def test_subscribing_an_expired_trial_brings_it_back(expiring: NewPartner) -> None:
    partner = await expiring()
    inst = await partner.new_instance("late")
    r = await partner.subscribe(inst)
    assert r.status_code == 201, r.text
    (item,) = (await partner.list(1, 15)).json()["content"]
    assert item["paymentStatus"] == "SUBSCRIBED"
    r = await inst.get("me")
    assert r.status_code == 200, r.text
    assert r.json()["paymentStatus"] == "SUBSCRIBED"
    assert_conflict(await partner.delete(inst), "cancel")


async def test_an_expired_trial_may_be_deleted_after_the_grace(expiring: NewPartner) -> None:
    partner = await expiring()
    expired = await partner.new_instance("expired")
    r = await partner.delete(expired)
    assert r.status_code == 200, r.text
    assert r.json() == {"value": True}
    # Canceling an expired trial keeps its end; it stays deletable.
    canceled = await partner.new_instance("canceled")
    due = (await partner.list(1, 15)).json()["content"][0]["due"]
    assert (await partner.cancel(canceled)).status_code == 201
    (item,) = (await partner.list(1, 15)).json()["content"]
    assert item["paymentStatus"] == "CANCELED"
    assert item["due"] == due
    r = await partner.batch_delete(canceled)
    assert r.json() == {"instances": [{"id": canceled.id, "value": True}]}
    assert await listed_ids(partner) == []
