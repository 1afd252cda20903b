"""The Z-API partner list workload: one page of 50 of a partner with many instances.

Two shapes: a random page of the whole list (``page``), and a search by a piece of an id
(``query``), which goes through the trigram index. Both are latency workloads at a few
connections; the target is the search's p99.
"""

from __future__ import annotations

import random

import orjson

from bench.driver import BadResponse, Limits
from bench.http1 import Connection, Response, connect
from bench.seed import SeededPartner
from bench.server import ServerProcess
from bench.stats import Run, Target
from bench.workloads import expect, measure

PAGE_SIZE = 50
SEARCH_TARGET = Target("p99_ms", 20)


async def zapi_list(
    server: ServerProcess,
    client: str,
    limits: Limits,
    backend: str,
    partner: SeededPartner,
    *,
    search: bool,
) -> Run:
    """GET /instances?page&pageSize=50 (and a ``query`` when ``search``)."""
    headers = {"Authorization": f"Bearer {partner.token}"}
    ids = await _some_ids(server, client, headers)
    pages = max(1, partner.instances // PAGE_SIZE)
    rng = random.Random(7)

    def path(i: int) -> str:
        if search:
            # Six digits of a real id: it and very few others match.
            return f"/instances?page=1&pageSize={PAGE_SIZE}&query={rng.choice(ids)[-6:]}"
        return f"/instances?page={rng.randint(1, pages)}&pageSize={PAGE_SIZE}"

    async def send(conn: Connection, i: int) -> Response:
        resp = expect(await conn.request("GET", path(i), headers=headers), 200, b'{"total":')
        if search and b'"content":[]' in resp.body:
            raise BadResponse("a search for an existing id found nothing")
        return resp

    outcome, extra = await measure(server, client, send, limits)
    name = f"Z-API {'search' if search else 'page'} of {PAGE_SIZE}, {partner.instances:,}"
    return Run(name, backend, limits.concurrency, outcome, SEARCH_TARGET if search else None, extra)


async def _some_ids(server: ServerProcess, client: str, headers: dict[str, str]) -> list[str]:
    """Ids of the first instances of the list (one untimed request, its answer checked)."""
    conn = connect(client, server.url)
    try:
        resp = expect(
            await conn.request("GET", "/instances?page=1&pageSize=200", headers=headers),
            200,
            b'{"total":',
        )
    finally:
        await conn.close()
    ids = [str(item["id"]) for item in orjson.loads(resp.body)["content"]]
    if not ids:
        raise BadResponse("the Z-API list of the seeded partner is empty")
    return ids
