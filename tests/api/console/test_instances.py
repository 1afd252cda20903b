"""The console's own create and delete routes (partner Bearer token in the header)."""

from __future__ import annotations

import httpx
import pytest

from tests.support import MakeInstance, MakePartner


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _listed(client: httpx.AsyncClient, partner: str) -> list[dict[str, object]]:
    r = await client.get("/instances?page=1&pageSize=100", headers=_bearer(partner))
    assert r.status_code == 200, r.text
    content: list[dict[str, object]] = r.json()["content"]
    return content


async def test_create_makes_a_named_instance_whose_token_works(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    partner = await make_partner()
    r = await client.post(
        "/console/api/instances", json={"name": "front desk"}, headers=_bearer(partner)
    )
    assert r.status_code == 201, r.text
    made = r.json()
    state = await client.get(
        f"/waInstance{made['idInstance']}/getStateInstance/{made['apiTokenInstance']}"
    )
    assert state.status_code == 200
    assert [(i["id"], i["name"]) for i in await _listed(client, partner)] == [
        (str(made["idInstance"]), "front desk")
    ]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"name": 5}, "name must be a string"),
        ({"name": ""}, "name must not be empty"),
        ({"name": "x", "colour": "red"}, "unknown field colour"),
        ([1], "request body must be a JSON object"),
    ],
)
async def test_a_bad_body_is_a_400_and_creates_nothing(
    client: httpx.AsyncClient, make_partner: MakePartner, body: object, error: str
) -> None:
    partner = await make_partner()
    r = await client.post("/console/api/instances", json=body, headers=_bearer(partner))
    assert r.status_code == 400
    assert r.json() == {"error": error}
    assert await _listed(client, partner) == []


@pytest.mark.parametrize("header", [{}, {"Authorization": "Bearer wrong"}])
async def test_without_a_valid_partner_token_nothing_is_created(
    client: httpx.AsyncClient, header: dict[str, str]
) -> None:
    r = await client.post("/console/api/instances", json={"name": "x"}, headers=header)
    assert r.status_code == 401
    assert r.json() == {"error": "Unauthorized"}
    assert r.headers["www-authenticate"] == "Bearer"


async def test_delete_removes_the_instance_and_its_token_stops_working(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    instance = await make_instance()
    r = await client.delete(
        f"/console/api/instances/{instance.id}", headers=_bearer(instance.partner_token)
    )
    assert r.status_code == 200 and r.json() == {"deleted": True}
    assert (await client.get(instance.url("getStateInstance"))).status_code != 200
    assert await _listed(client, instance.partner_token) == []
    again = await client.delete(
        f"/console/api/instances/{instance.id}", headers=_bearer(instance.partner_token)
    )
    assert again.status_code == 404
    assert again.json() == {"error": "Instance not found"}


async def test_another_partners_instance_cannot_be_deleted(
    client: httpx.AsyncClient, make_instance: MakeInstance, make_partner: MakePartner
) -> None:
    instance = await make_instance()
    stranger = await make_partner()
    r = await client.delete(f"/console/api/instances/{instance.id}", headers=_bearer(stranger))
    assert r.status_code == 404
    assert r.json() == {"error": "Instance not found"}
    assert (await client.get(instance.url("getStateInstance"))).status_code == 200


@pytest.mark.parametrize("given", ["abc", "99999999999999999999999"])
async def test_a_malformed_id_is_not_found(
    client: httpx.AsyncClient, make_partner: MakePartner, given: str
) -> None:
    r = await client.delete(
        f"/console/api/instances/{given}", headers=_bearer(await make_partner())
    )
    assert r.status_code == 404


async def test_deleted_instances_are_listed_latest_first_and_only_the_partners(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    partner = await make_partner()
    made = [await make_instance(partner) for _ in range(3)]
    await make_instance()  # another partner's, deleted too
    for instance in (made[0], made[2]):
        r = await client.delete(f"/console/api/instances/{instance.id}", headers=_bearer(partner))
        assert r.status_code == 200
    r = await client.get("/console/api/instances/deleted", headers=_bearer(partner))
    assert r.status_code == 200
    body = r.json()
    assert (body["total"], body["totalPage"], body["page"], body["pageSize"]) == (2, 1, 1, 20)
    assert [i["id"] for i in body["content"]] == [str(made[2].id), str(made[0].id)]
    first = body["content"][0]
    assert first["deletedMs"] >= first["createdMs"] > 0
    second_page = await client.get(
        "/console/api/instances/deleted?page=2&pageSize=1", headers=_bearer(partner)
    )
    assert [i["id"] for i in second_page.json()["content"]] == [str(made[0].id)]
    assert second_page.json()["totalPage"] == 2


async def test_the_pages_of_deleted_instances_hold_each_once_in_order(
    client: httpx.AsyncClient, make_partner: MakePartner, make_instance: MakeInstance
) -> None:
    """Each page's ids are chosen on the index first, then read (#18): the pages still join
    up to the whole list, latest deletion first, and a page past the end is empty."""
    partner = await make_partner()
    made = [await make_instance(partner) for _ in range(6)]
    for instance in made[:5]:
        r = await client.delete(f"/console/api/instances/{instance.id}", headers=_bearer(partner))
        assert r.status_code == 200
    whole = await client.get("/console/api/instances/deleted", headers=_bearer(partner))
    listed = [(i["deletedMs"], int(i["id"])) for i in whole.json()["content"]]
    # Deletions within one millisecond are ordered by id, the latest first.
    assert listed == sorted(listed, reverse=True)
    assert {i for _, i in listed} == {i.id for i in made[:5]}
    pages = []
    for number in (1, 2, 3, 4):
        r = await client.get(
            f"/console/api/instances/deleted?page={number}&pageSize=2", headers=_bearer(partner)
        )
        assert r.status_code == 200
        assert (r.json()["total"], r.json()["totalPage"]) == (5, 3)
        pages.append([i["id"] for i in r.json()["content"]])
    assert [len(page) for page in pages] == [2, 2, 1, 0]
    assert [i for page in pages for i in page] == [i["id"] for i in whole.json()["content"]]


@pytest.mark.parametrize(
    ("query", "error"),
    [
        ("page=0", "page must be 1 or more"),
        ("page=x", "page must be a positive integer"),
        ("pageSize=101", "pageSize must be from 1 to 100"),
        ("pageSize=9999999999", "pageSize must be a positive integer"),
    ],
)
async def test_a_bad_page_of_deleted_instances_is_a_400(
    client: httpx.AsyncClient, make_partner: MakePartner, query: str, error: str
) -> None:
    r = await client.get(
        f"/console/api/instances/deleted?{query}", headers=_bearer(await make_partner())
    )
    assert r.status_code == 400
    assert r.json() == {"error": error}
