"""The console's instance list (#18): one partner with 100,000 instances, 10,000 of them deleted.

The console's instances page reads the Z-API list (``GET /instances``: pages, and searches by
name or id) and, for its "deleted" switch, ``GET /console/api/instances/deleted``. Each shape
the page asks for is one latency workload at a few connections: the first page, a deep page
(900 of 100-sized pages), the last page, a search for one name, a search matching every name,
a search by a piece of an id, and the first and last pages of the deleted view.

The partner's instances are named ``Store <six digits>`` (a permutation of the index, so no
two share a name and a name search does not also find an id), and one in ten is deleted.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

from bench.driver import BadResponse, Limits
from bench.http1 import Connection, Response
from bench.seed import SeededPartner, seed_partner, settle
from bench.server import ServerProcess
from bench.stats import Run
from bench.workloads import expect, measure
from fleetgate.context import Context
from fleetgate.ids import INSTANCE_SUFFIX_SPACE
from fleetgate.settings import Settings

# Ids 1201xxxxxx: clear of the listing partners (1102, 1103), the sets (2001..) and the fleet.
ID_PREFIX = 1201
PAGE_SIZE = 100
DEEP_PAGE = 900
DELETED_EVERY = 10
# A multiplier prime to 10**6: index -> six digits is one-to-one below a million instances.
_SPREAD = 7919


def store_name(index: int) -> str:
    """The name of the partner's ``index``-th instance."""
    return f"Store {index * _SPREAD % INSTANCE_SUFFIX_SPACE:06d}"


async def seed_console(settings: Settings, size: int) -> SeededPartner:
    """Seed the console partner (the database is migrated already)."""
    ctx = Context.from_settings(settings)
    try:
        partner = await seed_partner(
            ctx,
            name="bench-console",
            instances=size,
            id_prefix=ID_PREFIX,
            deleted_every=DELETED_EVERY,
            naming=store_name,
        )
        await settle(ctx)
    finally:
        await ctx.db.dispose()
    return partner


@dataclass(frozen=True, slots=True)
class Shape:
    """One request shape of the console's list: its label and the path of its i-th request."""

    slug: str
    label: str
    path: Callable[[int], str]
    # What every answer must hold, as a check that the server really found something.
    nonempty: bool = True


def shapes(partner: SeededPartner) -> list[Shape]:
    """Every shape measured, for a partner seeded by :func:`seed_console`."""
    size = partner.instances
    rng = random.Random(18)
    live = [i for i in range(size) if (ID_PREFIX * INSTANCE_SUFFIX_SPACE + i) % DELETED_EVERY]
    pages = -(-size // PAGE_SIZE)  # the live list pages by creation sequence, deleted or not
    deleted_pages = -(-(size - len(live)) // PAGE_SIZE)
    deep = min(DEEP_PAGE, pages * 9 // 10)  # (a quick run's partner has fewer pages)
    listed = f"/instances?pageSize={PAGE_SIZE}&page="
    gone = f"/console/api/instances/deleted?pageSize={PAGE_SIZE}&page="

    def name(_i: int) -> str:
        return f"/instances?pageSize={PAGE_SIZE}&page=1&query=" + store_name(
            rng.choice(live)
        ).replace(" ", "%20")

    def id_piece(_i: int) -> str:
        digits = str(ID_PREFIX * INSTANCE_SUFFIX_SPACE + rng.choice(live))[-6:]
        return f"/instances?pageSize={PAGE_SIZE}&page=1&query={digits}"

    return [
        Shape("first", "first page", lambda _i: listed + "1"),
        Shape("deep", f"page {deep}", lambda _i: listed + str(deep)),
        Shape("last", f"last page ({pages})", lambda _i: listed + str(pages)),
        Shape("name", "search, one name", name),
        Shape("name-all", "search matching all", lambda _i: listed + "1&query=store"),
        Shape("id", "search, 6 id digits", id_piece),
        Shape("deleted-first", "deleted, first page", lambda _i: gone + "1"),
        Shape(
            "deleted-last", f"deleted, page {deleted_pages}", lambda _i: gone + str(deleted_pages)
        ),
    ]


async def console_list(
    server: ServerProcess,
    client: str,
    limits: Limits,
    backend: str,
    partner: SeededPartner,
    shape: Shape,
) -> Run:
    """GET one shape of the console's list over and over; every answer is checked."""
    headers = {"Authorization": f"Bearer {partner.token}"}

    async def send(conn: Connection, i: int) -> Response:
        resp = expect(await conn.request("GET", shape.path(i), headers=headers), 200, b'{"total":')
        if shape.nonempty and b'"content":[]' in resp.body:
            raise BadResponse(f"{shape.label}: an empty page")
        return resp

    outcome, extra = await measure(server, client, send, limits)
    name = f"console {shape.label}, {partner.instances:,}"
    return Run(name, backend, limits.concurrency, outcome, extra=extra)
