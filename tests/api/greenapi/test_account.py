"""GREEN-API account methods of an instance, against a live server on both databases."""

from __future__ import annotations

import base64

import httpx
import orjson
import pytest
from sqlalchemy import select, text

from fleetgate.context import Context
from fleetgate.storage.tables import NotificationRow
from tests.support import Instance, MakeInstance, authorize, wait_for_state

SETTINGS_KEYS = [
    "wid",
    "countryInstance",
    "typeAccount",
    "webhookUrl",
    "webhookUrlToken",
    "delaySendMessagesMilliseconds",
    "markIncomingMessagesReaded",
    "markIncomingMessagesReadedOnReply",
    "sharedSession",
    "proxyInstance",
    "outgoingWebhook",
    "outgoingMessageWebhook",
    "outgoingAPIMessageWebhook",
    "incomingWebhook",
    "deviceWebhook",
    "statusInstanceWebhook",
    "stateWebhook",
    "enableMessagesHistory",
    "keepOnlineStatus",
    "pollMessageWebhook",
    "incomingBlockWebhook",
    "incomingCallWebhook",
    "editedMessageWebhook",
    "deletedMessageWebhook",
]


async def settings(client: httpx.AsyncClient, instance: Instance) -> dict[str, object]:
    r = await client.get(instance.url("getSettings"))
    assert r.status_code == 200
    data: dict[str, object] = r.json()
    return data


async def test_get_settings_shows_created_settings_in_order(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(
        webhookUrl="https://hooks.example.com/x",
        webhookUrlToken="tok",
        delaySendMessagesMilliseconds=1500,
        incomingWebhook="yes",
    )
    data = await settings(client, inst)
    assert list(data) == SETTINGS_KEYS
    assert data["webhookUrl"] == "https://hooks.example.com/x"
    assert data["webhookUrlToken"] == "tok"
    assert data["delaySendMessagesMilliseconds"] == 1500
    assert data["incomingWebhook"] == "yes"
    assert data["outgoingWebhook"] == "no"
    assert data["wid"] == ""


async def test_set_settings_changes_only_what_is_given(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(incomingWebhook="yes", delaySendMessagesMilliseconds=2000)
    before = await settings(client, inst)
    r = await client.post(
        inst.url("setSettings"), json={"stateWebhook": "yes", "webhookUrl": "http://a.example/h"}
    )
    assert r.status_code == 200
    assert r.json() == {"saveSettings": True}
    after = await settings(client, inst)
    assert after["stateWebhook"] == "yes"
    assert after["webhookUrl"] == "http://a.example/h"
    unchanged = {k: v for k, v in before.items() if k not in ("stateWebhook", "webhookUrl")}
    assert {k: after[k] for k in unchanged} == unchanged


async def test_get_settings_answer_can_be_sent_back(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance(outgoingWebhook="yes")
    data = await settings(client, inst)
    r = await client.post(inst.url("setSettings"), json=data)
    assert r.json() == {"saveSettings": True}
    assert await settings(client, inst) == data


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({}, "at least one setting is required"),
        (None, "at least one setting is required"),
        ({"wid": "1@c.us"}, "at least one setting is required"),
        (
            {"delaySendMessagesMilliseconds": 100},
            "delaySendMessagesMilliseconds must be from 500 to 600000",
        ),
        ({"stateWebhook": "on"}, 'stateWebhook must be "yes" or "no"'),
        ({"name": "x"}, "unknown field name"),
        (
            {"webhookUrl": "javascript:alert(1)"},
            "webhookUrl must be an http:// or https:// URL with a host",
        ),
        ({"stateWebhook": "yes", "incomingWebhook": 1}, 'incomingWebhook must be "yes" or "no"'),
        (
            {"webhookUrl": "http://trusted.example@127.0.0.1/"},
            "webhookUrl must not contain a user name or password",
        ),
        (
            {"webhookUrl": "https://user:pw@example.com/hook"},
            "webhookUrl must not contain a user name or password",
        ),
    ],
)
async def test_set_settings_rejects_bad_bodies_and_changes_nothing(
    client: httpx.AsyncClient, make_instance: MakeInstance, body: object, description: str
) -> None:
    inst = await make_instance()
    before = await settings(client, inst)
    r = await client.post(inst.url("setSettings"), json=body)
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": description}
    assert await settings(client, inst) == before


async def test_new_instance_becomes_not_authorized_then_authorized_by_qr(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await wait_for_state(client, inst, "notAuthorized")
    assert (await client.get(inst.url("getStatusInstance"))).json() == {"statusInstance": "offline"}
    wa = (await client.get(inst.url("getWaSettings"))).json()
    assert wa == {"avatar": "", "phone": "", "stateInstance": "notAuthorized", "deviceId": ""}

    qr = (await client.get(inst.url("qr"))).json()
    assert qr["type"] == "qrCode"
    assert base64.b64decode(qr["message"]).startswith(b"\x89PNG\r\n\x1a\n")

    await authorize(client, inst, "79001234567")
    assert (await client.get(inst.url("getStatusInstance"))).json() == {"statusInstance": "online"}
    wa = (await client.get(inst.url("getWaSettings"))).json()
    assert wa == {
        "avatar": "",
        "phone": "79001234567",
        "stateInstance": "authorized",
        "deviceId": "79001234567:1@s.whatsapp.net",
    }
    assert (await settings(client, inst))["wid"] == "79001234567@c.us"
    assert (await client.get(inst.url("qr"))).json() == {
        "type": "alreadyLogged",
        "message": "instance account already authorized",
    }


async def test_pairing_code_links_the_phone_it_was_issued_for(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await wait_for_state(client, inst, "notAuthorized")
    r = await client.post(inst.url("getAuthorizationCode"), json={"phoneNumber": 441234567890})
    assert r.status_code == 200
    body = r.json()
    assert list(body) == ["status", "code"] and body["status"] is True
    auth = {"Authorization": f"Bearer {inst.partner_token}"}
    r = await client.post(
        "/sandbox/phones/441234567890/link", json={"code": body["code"]}, headers=auth
    )
    assert r.json() == {"linked": True, "idInstance": inst.id}
    await wait_for_state(client, inst, "authorized")
    r = await client.post(inst.url("getAuthorizationCode"), json={"phoneNumber": 441234567890})
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": "instance account already authorized"}


@pytest.mark.parametrize(
    ("body", "description"),
    [
        ({}, "field phoneNumber is required"),
        ({"phoneNumber": "441234567890"}, "phoneNumber must be an integer"),
        ({"phoneNumber": 123}, "phoneNumber must be 7 to 15 digits with the country code, no +"),
        (
            {"phoneNumber": -4412345678},
            "phoneNumber must be 7 to 15 digits with the country code, no +",
        ),
        ({"phoneNumber": 10**16}, "phoneNumber must be 7 to 15 digits with the country code, no +"),
    ],
)
async def test_pairing_code_rejects_bad_phone_numbers(
    client: httpx.AsyncClient, make_instance: MakeInstance, body: object, description: str
) -> None:
    inst = await make_instance()
    r = await client.post(inst.url("getAuthorizationCode"), json=body)
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": description}


async def test_reboot_keeps_authorization_and_logout_drops_it(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    await authorize(client, inst, "79005550000")
    assert (await client.get(inst.url("reboot"))).json() == {"isReboot": True}
    await wait_for_state(client, inst, "authorized")
    history = (await client.get(inst.url("getStateInstanceHistory"))).json()
    assert [h["stateInstance"] for h in history[:3]] == ["authorized", "starting", "authorized"]
    assert history[0]["phoneNumber"] == "79005550000@c.us"
    assert all(isinstance(h["timestamp"], int) for h in history)

    assert (await client.get(inst.url("logout"))).json() == {"isLogout": True}
    await wait_for_state(client, inst, "notAuthorized")
    assert (await settings(client, inst))["wid"] == ""
    assert (await client.get(inst.url("qr"))).json()["type"] == "qrCode"


async def test_state_history_count(client: httpx.AsyncClient, make_instance: MakeInstance) -> None:
    inst = await make_instance()
    await authorize(client, inst, "79005550001")
    full = (await client.get(inst.url("getStateInstanceHistory"))).json()
    assert len(full) == 2
    one = (await client.get(inst.url("GetStateInstanceHistory") + "?count=1")).json()
    assert one == full[:1]
    by_body = await client.request("GET", inst.url("getStateInstanceHistory"), json={"count": 1})
    assert by_body.json() == full[:1]
    for bad in ("0", "1001", "x"):
        r = await client.get(inst.url("getStateInstanceHistory") + f"?count={bad}")
        assert r.status_code == 400


async def test_update_api_token_kills_the_old_token_at_once(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    r = await client.get(inst.url("updateApiToken"))
    new = r.json()["apiTokenInstance"]
    assert len(new) == 50 and new != inst.token
    old = await client.get(inst.url("getStateInstance"))
    assert old.status_code == 401
    assert old.json() == {"code": 401, "description": "Unauthorized"}
    assert (await client.get(inst.url("getStateInstance", new))).status_code == 200
    listed = (await client.get(f"/partner/getInstances/{inst.partner_token}")).json()
    assert listed[0]["apiTokenInstance"] == new


async def test_instance_auth_errors(client: httpx.AsyncClient, make_instance: MakeInstance) -> None:
    inst = await make_instance()
    r = await client.get(inst.url("getSettings", "0" * 50))
    assert (r.status_code, r.json()) == (401, {"code": 401, "description": "Unauthorized"})
    r = await client.get(f"/waInstance1101000000/getSettings/{inst.token}")
    assert (r.status_code, r.json()) == (403, {"code": 403, "description": "Forbidden"})
    r = await client.get(f"/waInstanceabc/getSettings/{inst.token}")
    assert r.status_code == 400
    assert r.json() == {"code": 400, "description": "Parameter idInstance not an integer"}
    r = await client.get(f"/waInstance{inst.id}/noSuchMethod/{inst.token}")
    assert (r.status_code, r.json()) == (404, {"code": 404, "description": "Not found"})
    r = await client.post(inst.url("getSettings"))
    assert (r.status_code, r.json()) == (405, {"code": 405, "description": "Method Not Allowed"})

    r = await client.post(
        f"/partner/deleteInstanceAccount/{inst.partner_token}", json={"idInstance": inst.id}
    )
    assert r.json() == {"deleteInstanceAccount": True}
    r = await client.get(inst.url("getSettings"))
    assert (r.status_code, r.json()) == (403, {"code": 403, "description": "Forbidden"})


async def test_method_names_are_case_insensitive(
    client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    for name in ("GetSettings", "getsettings", "GETSETTINGS"):
        assert (await client.get(inst.url(name))).status_code == 200


async def _notifications(ctx: Context, id_instance: int) -> list[dict[str, object]]:
    async with ctx.db.reading() as session:
        rows = await session.scalars(
            select(NotificationRow.body)
            .where(NotificationRow.id_instance == id_instance)
            .order_by(NotificationRow.id)
        )
        return [orjson.loads(b) for b in rows]


async def test_state_changes_are_queued_only_when_state_webhook_is_on(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    quiet = await make_instance()
    loud = await make_instance(stateWebhook="yes")
    await authorize(client, quiet, "79005550002")
    await authorize(client, loud, "79005550003")
    assert await _notifications(ctx, quiet.id) == []
    bodies = await _notifications(ctx, loud.id)
    assert [b["stateInstance"] for b in bodies] == ["notAuthorized", "authorized"]
    last = bodies[-1]
    assert list(last) == ["typeWebhook", "instanceData", "timestamp", "stateInstance"]
    assert last["typeWebhook"] == "stateInstanceChanged"
    assert last["instanceData"] == {
        "idInstance": loud.id,
        "wid": "79005550003@c.us",
        "typeInstance": "whatsapp",
    }
    assert isinstance(last["timestamp"], int)


async def _stored_webhook_token(ctx: Context, id_instance: int) -> bytes | None:
    """The webhookUrlToken column as the database holds it, read raw."""
    async with ctx.db.reading() as session:
        stmt = text("SELECT webhook_token_cipher FROM instances WHERE id_instance = :i")
        found = await session.scalar(stmt, {"i": id_instance})
    return None if found is None else bytes(found)


async def test_webhook_url_token_is_stored_encrypted_and_shown_in_clear(
    client: httpx.AsyncClient, make_instance: MakeInstance, ctx: Context
) -> None:
    secret = "hook-secret-Ünïcode-" + "x" * 40
    inst = await make_instance(webhookUrlToken=secret)
    stored = await _stored_webhook_token(ctx, inst.id)
    assert stored is not None
    assert secret.encode() not in stored
    assert b"hook-secret" not in stored
    assert (await settings(client, inst))["webhookUrlToken"] == secret

    changed = "another-one"
    r = await client.post(inst.url("setSettings"), json={"webhookUrlToken": changed})
    assert r.json() == {"saveSettings": True}
    again = await _stored_webhook_token(ctx, inst.id)
    assert again is not None and again != stored and changed.encode() not in again
    assert (await settings(client, inst))["webhookUrlToken"] == changed

    # An empty token is no token: nothing stored, "" shown.
    r = await client.post(inst.url("setSettings"), json={"webhookUrlToken": ""})
    assert r.json() == {"saveSettings": True}
    assert await _stored_webhook_token(ctx, inst.id) is None
    assert (await settings(client, inst))["webhookUrlToken"] == ""
