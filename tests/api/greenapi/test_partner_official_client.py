"""The official GREEN-API Python client (GreenApiPartner) against a live fleetgate."""

from __future__ import annotations

import asyncio

from whatsapp_api_client_python.API import GreenApiPartner

from tests.support import LiveServer, MakePartner


async def test_official_partner_client_round_trip(
    server: LiveServer, make_partner: MakePartner
) -> None:
    api = GreenApiPartner(await make_partner(), host=server.url)

    created = await asyncio.to_thread(
        api.partner.createInstance,
        {"name": "official", "stateWebhook": "yes", "delaySendMessagesMilliseconds": 1000},
    )
    assert created.code == 200
    id_instance = created.data["idInstance"]
    assert created.data["typeInstance"] == "whatsapp"

    listed = await asyncio.to_thread(api.partner.getInstances)
    assert listed.code == 200
    (item,) = listed.data
    assert item["idInstance"] == id_instance
    assert item["name"] == "official"
    assert item["apiTokenInstance"] == created.data["apiTokenInstance"]

    deleted = await asyncio.to_thread(api.partner.deleteInstanceAccount, id_instance)
    assert deleted.code == 200
    assert deleted.data == {"deleteInstanceAccount": True}

    listed = await asyncio.to_thread(api.partner.getInstances)
    assert listed.data[0]["deleted"] is True

    again = await asyncio.to_thread(api.partner.deleteInstanceAccount, id_instance)
    assert again.data == {"code": 404, "description": "Not found"}


async def test_official_partner_client_async_methods(
    server: LiveServer, make_partner: MakePartner
) -> None:
    api = GreenApiPartner(await make_partner(), host=server.url)
    created = await api.partner.createInstanceAsync({"name": "async"})
    assert created.code == 200
    listed = await api.partner.getInstancesAsync()
    assert [i["idInstance"] for i in listed.data] == [created.data["idInstance"]]
    deleted = await api.partner.deleteInstanceAccountAsync(created.data["idInstance"])
    assert deleted.data == {"deleteInstanceAccount": True}


async def test_official_partner_client_wrong_token(server: LiveServer) -> None:
    api = GreenApiPartner("gac.wrong", host=server.url)
    for call in (api.partner.getInstances, lambda: api.partner.createInstance({"name": "x"})):
        response = await asyncio.to_thread(call)
        assert response.code == 200
        assert response.data == {"code": 401, "description": "Unauthorized"}
    response = await asyncio.to_thread(api.partner.deleteInstanceAccount, 1101000000)
    assert response.data == {"code": 401, "description": "Unauthorized"}
