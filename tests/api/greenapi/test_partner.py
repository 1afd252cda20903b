"""The GREEN-API partner methods over HTTP, against a live server on both databases."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.support import MakePartner

UNAUTHORIZED = b'{"code":401,"description":"Unauthorized"}'
NOT_FOUND = b'{"code":404,"description":"Not found"}'
LISTING_KEYS = [
    "idInstance",
    "name",
    "typeInstance",
    "typeAccount",
    "partnerUserUiid",
    "timeCreated",
    "timeDeleted",
    "apiTokenInstance",
    "deleted",
    "tariff",
    "isFree",
    "isPartner",
    "expirationDate",
    "isExpired",
]
GREEN_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$")


async def create(client: httpx.AsyncClient, token: str, body: object = None) -> httpx.Response:
    return await client.post(f"/partner/createInstance/{token}", json=body)


async def listing(client: httpx.AsyncClient, token: str) -> list[dict[str, object]]:
    r = await client.get(f"/partner/getInstances/{token}")
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("application/json")
    data = r.json()
    assert isinstance(data, list)
    return data


async def test_create_returns_id_token_and_type(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    r = await create(client, token, {"name": "shop"})
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["idInstance", "apiTokenInstance", "typeInstance"]
    assert isinstance(body["idInstance"], int)
    assert len(str(body["idInstance"])) == 10
    assert str(body["idInstance"]).startswith("1101")
    assert re.fullmatch(r"[0-9a-f]{50}", body["apiTokenInstance"])
    assert body["typeInstance"] == "whatsapp"


async def test_create_with_empty_or_missing_body_uses_defaults(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    r1 = await client.post(f"/partner/createInstance/{token}")
    r2 = await create(client, token, {})
    assert r1.status_code == r2.status_code == 200
    ids = {r1.json()["idInstance"], r2.json()["idInstance"]}
    items = {i["idInstance"]: i for i in await listing(client, token)}
    assert set(items) == ids
    for id_instance in ids:
        assert items[id_instance]["name"] == f"Instance {id_instance}"


async def test_create_accepts_every_setting(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    body = {
        "name": "Every setting",
        "webhookUrl": "https://hooks.example.com/in",
        "webhookUrlToken": "secret-token",
        "delaySendMessagesMilliseconds": 600000,
        "markIncomingMessagesReaded": "yes",
        "markIncomingMessagesReadedOnReply": "no",
        "outgoingWebhook": "yes",
        "outgoingMessageWebhook": "yes",
        "outgoingAPIMessageWebhook": "yes",
        "stateWebhook": "yes",
        "incomingWebhook": "yes",
        "deviceWebhook": "no",
        "keepOnlineStatus": "yes",
        "pollMessageWebhook": "yes",
        "incomingBlockWebhook": "yes",
        "incomingCallWebhook": "yes",
        "editedMessageWebhook": "yes",
        "deletedMessageWebhook": "yes",
        "statusInstanceWebhook": "no",
        "enableMessagesHistory": "yes",
        # read-only keys from a getSettings answer are accepted and ignored
        "wid": "",
        "countryInstance": "",
        "typeAccount": "",
        "sharedSession": "no",
        "proxyInstance": "system proxy",
    }
    r = await create(client, token, body)
    assert r.status_code == 200, r.text
    (item,) = await listing(client, token)
    assert item["name"] == "Every setting"


async def test_delay_bounds_are_inclusive(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    for ok in (500, 600000):
        r = await create(client, token, {"delaySendMessagesMilliseconds": ok})
        assert r.status_code == 200, r.text
    for bad in (499, 600001, 0, -1):
        r = await create(client, token, {"delaySendMessagesMilliseconds": bad})
        assert r.status_code == 400
        assert r.json() == {
            "code": 400,
            "description": "delaySendMessagesMilliseconds must be from 500 to 600000",
        }
    assert len(await listing(client, token)) == 2


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({"stateWebhook": True}, 'stateWebhook must be "yes" or "no"'),
        ({"stateWebhook": "YES"}, 'stateWebhook must be "yes" or "no"'),
        ({"incomingWebhook": "maybe"}, 'incomingWebhook must be "yes" or "no"'),
        (
            {"delaySendMessagesMilliseconds": "1000"},
            "delaySendMessagesMilliseconds must be an integer",
        ),
        (
            {"delaySendMessagesMilliseconds": 1000.5},
            "delaySendMessagesMilliseconds must be an integer",
        ),
        (
            {"delaySendMessagesMilliseconds": True},
            "delaySendMessagesMilliseconds must be an integer",
        ),
        ({"name": 5}, "name must be a string"),
        ({"name": "x" * 256}, "name must be at most 255 characters"),
        ({"name": "bad\nname"}, "name must not contain control characters"),
        ({"name": "gpj.\u202eexe"}, "name must not contain control characters"),
        ({"name": "a\u2066b\u2069"}, "name must not contain control characters"),
        ({"name": "c1\x85"}, "name must not contain control characters"),
        (
            {"webhookUrl": "ftp://example.com/"},
            "webhookUrl must be an http:// or https:// URL with a host",
        ),
        ({"webhookUrl": "not a url"}, "webhookUrl must be an http:// or https:// URL with a host"),
        ({"webhookUrl": "http://example.com:99999/"}, "webhookUrl is not a valid URL"),
        (
            {"webhookUrl": "http://user@example.com/"},
            "webhookUrl must not contain a user name or password",
        ),
        (
            {"webhookUrl": "https://user:pw@example.com/"},
            "webhookUrl must not contain a user name or password",
        ),
        ({"webhookUrlToken": 12}, "webhookUrlToken must be a string"),
        ({"webhookUrlToken": "t" * 1025}, "webhookUrlToken must be at most 1024 characters"),
        ({"webhookURL": "https://example.com"}, "unknown field webhookURL"),
        ([], "request body must be a JSON object"),
        ("text", "request body must be a JSON object"),
        (42, "request body must be a JSON object"),
    ],
)
async def test_create_rejects_bad_bodies_and_stores_nothing(
    client: httpx.AsyncClient, make_partner: MakePartner, body: object, description: str
) -> None:
    token = await make_partner()
    r = await create(client, token, body)
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": description}
    assert await listing(client, token) == []


async def test_create_rejects_non_json_and_oversized_bodies(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    url = f"/partner/createInstance/{token}"
    r = await client.post(url, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": "request body is not valid JSON"}
    r = await client.post(url, content=b"\xff\xfe{}", headers={"content-type": "application/json"})
    assert r.status_code == 400
    big = b'{"name": "' + b"x" * 2_000_000 + b'"}'
    r = await client.post(url, content=big, headers={"content-type": "application/json"})
    assert r.status_code == 413
    assert r.json() == {"code": 413, "description": "request body is larger than 1048576 bytes"}

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b" " * 65536

    r = await client.post(url, content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413
    deep = b"[" * 5000 + b"]" * 5000
    r = await client.post(url, content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400
    assert await listing(client, token) == []


@pytest.mark.parametrize("path", ["createInstance", "getInstances", "deleteInstanceAccount"])
async def test_bad_partner_token_is_http_200_with_exact_body(
    client: httpx.AsyncClient, path: str
) -> None:
    for token in ("gac.0000", "nope", "x" * 500):
        if path == "getInstances":
            r = await client.get(f"/partner/{path}/{token}")
        else:
            r = await client.post(f"/partner/{path}/{token}", json={"idInstance": 1101000000})
        assert r.status_code == 200
        assert r.content == UNAUTHORIZED


async def test_bad_token_wins_over_bad_body(client: httpx.AsyncClient) -> None:
    r = await client.post("/partner/createInstance/wrong", content=b"{oops")
    assert r.content == UNAUTHORIZED


async def test_listing_shape_and_order(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    created = [(await create(client, token, {"name": f"n{i}"})).json() for i in range(3)]
    items = await listing(client, token)
    assert [i["idInstance"] for i in items] == [c["idInstance"] for c in created]
    for item, made in zip(items, created, strict=True):
        assert list(item) == LISTING_KEYS
        assert item["apiTokenInstance"] == made["apiTokenInstance"]
        assert item["typeInstance"] == "whatsapp"
        assert item["typeAccount"] == "" and item["partnerUserUiid"] == ""
        assert GREEN_TIME.match(str(item["timeCreated"]))
        assert item["timeDeleted"] == "0001-01-01T00:00:00"
        assert item["deleted"] is False
        assert item["tariff"] == "PARTNER"
        assert item["isFree"] is False and item["isPartner"] is True
        assert GREEN_TIME.match(str(item["expirationDate"]))
        assert str(item["expirationDate"]) > str(item["timeCreated"])
        assert item["isExpired"] is False


async def test_delete_keeps_instance_listed_as_deleted(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    keep = (await create(client, token)).json()["idInstance"]
    gone = (await create(client, token)).json()["idInstance"]
    r = await client.post(f"/partner/deleteInstanceAccount/{token}", json={"idInstance": gone})
    assert r.status_code == 200
    assert r.content == b'{"deleteInstanceAccount":true}'
    items = {i["idInstance"]: i for i in await listing(client, token)}
    assert items[keep]["deleted"] is False
    assert items[gone]["deleted"] is True
    assert GREEN_TIME.match(str(items[gone]["timeDeleted"]))
    assert items[gone]["timeDeleted"] >= items[gone]["timeCreated"]  # type: ignore[operator]
    # deleting again, or deleting an id that never existed, is "Not found"
    for id_instance in (gone, 1101000000, 9999999999):
        r = await client.post(
            f"/partner/deleteInstanceAccount/{token}", json={"idInstance": id_instance}
        )
        assert r.status_code == 200
        assert r.content == NOT_FOUND


async def test_partners_see_and_delete_only_their_own(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    alice, bob = await make_partner(), await make_partner()
    theirs = (await create(client, alice)).json()["idInstance"]
    assert await listing(client, bob) == []
    r = await client.post(f"/partner/deleteInstanceAccount/{bob}", json={"idInstance": theirs})
    assert r.content == NOT_FOUND
    (item,) = await listing(client, alice)
    assert item["idInstance"] == theirs and item["deleted"] is False


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({}, "field idInstance is required"),
        (None, "field idInstance is required"),
        ({"idInstance": "1101000000"}, "idInstance must be an integer"),
        ({"idInstance": 1.5}, "idInstance must be an integer"),
        ({"idInstance": 1101000000, "extra": 1}, "unknown field extra"),
        ([1101000000], "request body must be a JSON object"),
    ],
)
async def test_delete_rejects_bad_bodies(
    client: httpx.AsyncClient, make_partner: MakePartner, body: object, description: str
) -> None:
    token = await make_partner()
    (await create(client, token)).json()
    r = await client.post(f"/partner/deleteInstanceAccount/{token}", json=body)
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": description}
    (item,) = await listing(client, token)
    assert item["deleted"] is False


async def test_method_names_are_case_insensitive(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    r = await client.post(f"/partner/CreateInstance/{token}", json={})
    assert r.status_code == 200
    id_instance = r.json()["idInstance"]
    assert len((await client.get(f"/partner/GETINSTANCES/{token}")).json()) == 1
    r = await client.post(
        f"/partner/deleteinstanceaccount/{token}", json={"idInstance": id_instance}
    )
    assert r.json() == {"deleteInstanceAccount": True}


async def test_unknown_method_and_wrong_verb(
    client: httpx.AsyncClient, make_partner: MakePartner
) -> None:
    token = await make_partner()
    r = await client.get(f"/partner/fooBar/{token}")
    assert r.status_code == 404
    assert r.json() == {"code": 404, "description": "Not found"}
    r = await client.get(f"/partner/createInstance/{token}")
    assert r.status_code == 405
    assert r.json() == {"code": 405, "description": "Method Not Allowed"}
    assert await listing(client, token) == []


async def test_revoked_partner_is_unauthorized(
    client: httpx.AsyncClient, ctx, make_partner: MakePartner
) -> None:  # type: ignore[no-untyped-def]
    from fleetgate.services import partners

    token = await make_partner()
    assert (await create(client, token)).status_code == 200
    async with ctx.db.reading() as session:
        partner = await partners.authenticate_partner(session=session, token=token)
    async with ctx.db.transaction() as session:
        await partners.revoke_partner(session=session, name=partner.name)
    r = await client.get(f"/partner/getInstances/{token}")
    assert r.content == UNAUTHORIZED
