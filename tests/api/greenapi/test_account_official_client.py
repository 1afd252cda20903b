"""The official GREEN-API Python client drives the account methods of a live fleetgate."""

from __future__ import annotations

import asyncio
import base64

import httpx
from whatsapp_api_client_python.API import GreenAPI

from tests.support import LiveServer, MakeInstance, wait_for_state


async def test_official_client_account_methods(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    call = asyncio.to_thread

    await wait_for_state(client, inst, "notAuthorized")
    assert (await call(api.account.getStateInstance)).data == {"stateInstance": "notAuthorized"}
    assert (await call(api.account.getStatusInstance)).data == {"statusInstance": "offline"}

    saved = await call(
        api.account.setSettings, {"incomingWebhook": "yes", "delaySendMessagesMilliseconds": 1000}
    )
    assert saved.data == {"saveSettings": True}
    got = (await call(api.account.getSettings)).data
    assert got["incomingWebhook"] == "yes" and got["delaySendMessagesMilliseconds"] == 1000

    qr = await call(api.account.qr)
    assert qr.data["type"] == "qrCode"
    assert base64.b64decode(qr.data["message"])[:4] == b"\x89PNG"

    code = await call(api.account.getAuthorizationCode, 79001230000)
    assert code.data["status"] is True
    auth = {"Authorization": f"Bearer {inst.partner_token}"}
    r = await client.post(
        "/sandbox/phones/79001230000/link", json={"code": code.data["code"]}, headers=auth
    )
    assert r.status_code == 200
    await wait_for_state(client, inst, "authorized")
    assert (await call(api.account.getWaSettings)).data["phone"] == "79001230000"
    assert (await call(api.account.qr)).data["type"] == "alreadyLogged"

    assert (await call(api.account.reboot)).data == {"isReboot": True}
    await wait_for_state(client, inst, "authorized")
    history = (await call(api.account.getStateInstanceHistory, 3)).data
    assert [h["stateInstance"] for h in history] == ["authorized", "starting", "authorized"]

    assert (await call(api.account.logout)).data == {"isLogout": True}
    await wait_for_state(client, inst, "notAuthorized")

    new_token = (await call(api.account.updateApiToken)).data["apiTokenInstance"]
    stale = await call(api.account.getStateInstance)
    assert stale.code == 401 and stale.data is None
    fresh = GreenAPI(str(inst.id), new_token, host=server.url)
    assert (await call(fresh.account.getStateInstance)).data == {"stateInstance": "notAuthorized"}


async def test_official_client_async_account_methods(
    server: LiveServer, client: httpx.AsyncClient, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    api = GreenAPI(str(inst.id), inst.token, host=server.url)
    await wait_for_state(client, inst, "notAuthorized")
    assert (await api.account.getStateInstanceAsync()).data == {"stateInstance": "notAuthorized"}
    assert (await api.account.setSettingsAsync({"stateWebhook": "yes"})).data == {
        "saveSettings": True
    }
    assert (await api.account.getSettingsAsync()).data["stateWebhook"] == "yes"


async def test_official_client_wrong_credentials(
    server: LiveServer, make_instance: MakeInstance
) -> None:
    inst = await make_instance()
    wrong_token = GreenAPI(str(inst.id), "f" * 50, host=server.url)
    r = await asyncio.to_thread(wrong_token.account.getSettings)
    assert r.code == 401 and r.data is None
    wrong_id = GreenAPI("1101000000", inst.token, host=server.url)
    r = await asyncio.to_thread(wrong_id.account.getSettings)
    assert r.code == 403 and r.data is None
