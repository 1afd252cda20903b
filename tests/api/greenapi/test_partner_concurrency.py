"""Many createInstance calls at once: every one gets its own id and token, none is lost."""

from __future__ import annotations

import asyncio

import httpx

from tests.support import LiveServer, MakePartner


async def test_200_concurrent_creates_are_distinct_and_all_listed(
    server: LiveServer, make_partner: MakePartner
) -> None:
    token = await make_partner()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(base_url=server.url, timeout=60, limits=limits) as client:
        responses = await asyncio.gather(
            *(
                client.post(f"/partner/createInstance/{token}", json={"name": f"c{i}"})
                for i in range(200)
            )
        )
        assert [r.status_code for r in responses] == [200] * 200
        created = [r.json() for r in responses]
        ids = {c["idInstance"] for c in created}
        tokens = {c["apiTokenInstance"] for c in created}
        assert len(ids) == 200
        assert len(tokens) == 200

        listed = (await client.get(f"/partner/getInstances/{token}")).json()
        assert {i["idInstance"] for i in listed} == ids
        assert {i["apiTokenInstance"] for i in listed} == tokens
        assert sorted(i["name"] for i in listed) == sorted(f"c{i}" for i in range(200))
