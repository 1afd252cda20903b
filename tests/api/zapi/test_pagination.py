"""Property tests of the Z-API partner list (``GET /instances``) on a live server, both databases.

Unfiltered pages are fixed windows of the partner's creation sequence, so a client walking pages
1..totalPage while instances are created and deleted still sees every instance that lived through
the walk exactly once. Filtered pages are plain slices of the matches. Each example uses a fresh
partner and deletes its instances afterwards, so the shared server's runners stay light.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.support import MakePartner
from tests.zapi_client import ZapiPartner

Json = dict[str, Any]
# Live-server examples are slow: few of them, no deadline; the fixtures are factories and
# clients that every example may share.
LIVE = settings(
    max_examples=10,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
WAIT_S = 30.0
CREATE_BATCH = 8


@dataclass
class Walk:
    """What one walk over pages 1..totalPage saw."""

    ids: list[str] = field(default_factory=list)
    totals: list[int] = field(default_factory=list)
    total_pages: list[int] = field(default_factory=list)
    pages: int = 0


async def create(zp: ZapiPartner, name: str, **options: Any) -> str:
    r = await zp.create(name, **options)
    assert r.status_code == 200, r.text
    instance_id: str = r.json()["id"]
    return instance_id


async def create_many(zp: ZapiPartner, names: Sequence[str], **options: Any) -> list[str]:
    """Create instances a few at a time; their ids in the order of ``names``."""
    ids: list[str] = []
    for start in range(0, len(names), CREATE_BATCH):
        batch = names[start : start + CREATE_BATCH]
        ids += await asyncio.gather(*(create(zp, n, **options) for n in batch))
    return ids


async def delete(http: httpx.AsyncClient, partner_token: str, instance_id: str) -> None:
    """Delete through GREEN-API (no Z-API eligibility rules)."""
    r = await http.post(
        f"/partner/deleteInstanceAccount/{partner_token}", json={"idInstance": int(instance_id)}
    )
    assert (r.status_code, r.json()) == (200, {"deleteInstanceAccount": True}), r.text


async def delete_all(http: httpx.AsyncClient, partner_token: str) -> None:
    """Delete every live instance of the partner (clean-up after an example)."""
    r = await http.get(f"/partner/getInstances/{partner_token}")
    assert r.status_code == 200, r.text
    live = [str(i["idInstance"]) for i in r.json() if not i["deleted"]]
    for start in range(0, len(live), CREATE_BATCH):
        await asyncio.gather(
            *(delete(http, partner_token, i) for i in live[start : start + CREATE_BATCH])
        )


async def list_page(zp: ZapiPartner, page: int, page_size: int, **params: str) -> Json:
    r = await zp.list(page, page_size, **params)
    assert r.status_code == 200, r.text
    body: Json = r.json()
    assert list(body) == ["total", "totalPage", "pageSize", "page", "content"], body
    assert (body["page"], body["pageSize"]) == (page, page_size)
    assert len(body["content"]) <= page_size, body
    return body


async def walk(
    zp: ZapiPartner,
    page_size: int,
    *,
    before_page: Any = None,
    **params: str,
) -> Walk:
    """Pages 1..totalPage, re-reading totalPage from each answer."""
    seen = Walk()
    page = 1
    while True:
        if before_page is not None:
            await before_page(page)
        body = await list_page(zp, page, page_size, **params)
        seen.ids += [item["id"] for item in body["content"]]
        seen.totals.append(body["total"])
        seen.total_pages.append(body["totalPage"])
        seen.pages = page
        if page >= body["totalPage"]:
            return seen
        page += 1
        assert page <= 10_000, "the walk does not end"


def assert_no_repeats(ids: list[str]) -> None:
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    assert not repeated, f"listed more than once: {repeated}"


# --- unfiltered walk while instances come and go ---------------------------------------------


@st.composite
def churns(draw: st.DrawFn) -> Json:
    """Instances before the walk, which of them are gone before it, and what changes during it."""
    n = draw(st.integers(min_value=20, max_value=32), label="initial instances")
    gone = draw(st.sets(st.integers(0, n - 1), max_size=n // 4), label="deleted before the walk")
    rest = [i for i in range(n) if i not in gone]
    victims = draw(
        st.lists(st.sampled_from(rest), unique=True, max_size=len(rest) // 3),
        label="deleted during the walk",
    )
    creates = draw(st.integers(min_value=0, max_value=10), label="created during the walk")
    ops: list[int | None] = [None] * creates + list(victims)  # None: create one
    return {
        "n": n,
        "gone": sorted(gone),
        "ops": draw(st.permutations(ops), label="order of changes"),
        "page_size": draw(st.integers(min_value=1, max_value=12), label="pageSize"),
        # The walker waits before page p until at least (p - 1) * pace changes were made, so
        # the changes land between pages too, not only wherever the scheduler puts them.
        "pace": draw(st.integers(min_value=0, max_value=3), label="changes per page"),
    }


@given(plan=churns())
@LIVE
async def test_a_walk_lists_every_lasting_instance_once_while_others_come_and_go(
    client: httpx.AsyncClient, make_partner: MakePartner, plan: Json
) -> None:
    token = await make_partner()
    zp = ZapiPartner(client, token)
    try:
        initial = await create_many(zp, [f"inst-{i}" for i in range(plan["n"])])
        gone = {initial[i] for i in plan["gone"]}
        for instance_id in gone:
            await delete(client, token, instance_id)
        ops: list[int | None] = plan["ops"]
        victims = {initial[i] for i in ops if i is not None}
        created: list[str] = []
        done = 0
        progressed = asyncio.Event()

        async def churn() -> None:
            nonlocal done
            for op in ops:
                if op is None:
                    created.append(await create(zp, "inst-new"))
                else:
                    await delete(client, token, initial[op])
                done += 1
                progressed.set()
                await asyncio.sleep(0)

        task = asyncio.create_task(churn())

        progress_at_page: list[int] = []

        async def gate(page: int) -> None:
            need = min(len(ops), (page - 1) * plan["pace"])
            async with asyncio.timeout(WAIT_S):
                while done < need:
                    if task.done():
                        task.result()  # re-raise what broke it
                    progressed.clear()
                    await progressed.wait()
            progress_at_page.append(done)

        try:
            seen = await walk(zp, plan["page_size"], before_page=gate)
        finally:
            async with asyncio.timeout(WAIT_S):
                await task

        during = progress_at_page[-1] - progress_at_page[0]
        event("changes between pages" if during else "no change during the walk")
        lasting = set(initial) - gone - victims
        assert_no_repeats(seen.ids)
        assert not set(seen.ids) & gone, "an instance deleted before the walk was listed"
        assert set(seen.ids) <= set(initial) | set(created), "an unknown id was listed"
        missing = lasting - set(seen.ids)
        assert not missing, f"instances that lived through the walk were not listed: {missing}"
        # Creating adds pages, deleting never removes one: totalPage only grows during a walk.
        assert seen.total_pages == sorted(seen.total_pages), seen.total_pages

        # Once everything settled, one more walk lists exactly the live instances.
        live = lasting | set(created)
        final = await walk(zp, plan["page_size"])
        assert_no_repeats(final.ids)
        assert set(final.ids) == live
        assert set(final.totals) == {len(live)}
        after = await list_page(zp, final.pages + 1, plan["page_size"])
        assert after["content"] == [], "an instance is listed past totalPage"
    finally:
        await delete_all(client, token)


# --- filtered walk: plain slices of the matches ------------------------------------------------


@st.composite
def searches(draw: st.DrawFn) -> Json:
    n = draw(st.integers(min_value=20, max_value=30), label="instances")
    tagged = draw(st.sets(st.integers(0, n - 1)), label="named with the tag")
    mobile = draw(st.sets(st.integers(0, n - 1)), label="created with isDevice")
    return {
        "n": n,
        "tagged": tagged,
        "mobile": mobile,
        "gone": draw(st.sets(st.integers(0, n - 1), max_size=n // 4), label="deleted"),
        "page_size": draw(st.integers(min_value=1, max_value=12), label="pageSize"),
        "middleware": draw(st.sampled_from([None, "web", "mobile"]), label="middleware"),
        "upper": draw(st.booleans(), label="query in upper case"),
    }


@given(plan=searches())
@LIVE
async def test_a_filtered_walk_lists_exactly_the_matches_once(
    client: httpx.AsyncClient, make_partner: MakePartner, plan: Json
) -> None:
    token = await make_partner()
    zp = ZapiPartner(client, token)
    tag = "tag" + secrets.token_hex(3) + "z"  # letters in it: never read as an id prefix
    try:
        names = [
            f"shop-{tag}-{i}" if i in plan["tagged"] else f"shop-other-{i}"
            for i in range(plan["n"])
        ]
        ids: list[str] = []
        kinds: dict[str, str] = {}
        for start in range(0, plan["n"], CREATE_BATCH):
            batch = range(start, min(start + CREATE_BATCH, plan["n"]))
            made = await asyncio.gather(
                *(create(zp, names[i], isDevice=i in plan["mobile"]) for i in batch)
            )
            for i, instance_id in zip(batch, made, strict=True):
                kinds[instance_id] = "mobile" if i in plan["mobile"] else "web"
            ids += made
        for i in plan["gone"]:
            await delete(client, token, ids[i])

        live = [ids[i] for i in range(plan["n"]) if i not in plan["gone"]]
        matching = {
            ids[i]
            for i in plan["tagged"]
            if i not in plan["gone"] and plan["middleware"] in (None, kinds[ids[i]])
        }
        params = {"query": tag.upper() if plan["upper"] else tag}
        if plan["middleware"]:
            params["middleware"] = plan["middleware"]
        size = plan["page_size"]
        seen = await walk(zp, size, **params)

        assert_no_repeats(seen.ids)
        assert set(seen.ids) == matching
        assert set(seen.totals) == {len(matching)}
        assert set(seen.total_pages) == {-(-len(matching) // size)}
        # Plain slices: every page but the last is full; nothing lies past the last one.
        for page in range(1, seen.pages + 1):
            body = await list_page(zp, page, size, **params)
            expected = min(size, len(matching) - (page - 1) * size)
            assert len(body["content"]) == max(expected, 0), (page, body)
            assert all(tag in item["name"] for item in body["content"])
        beyond = await list_page(zp, seen.pages + 1, size, **params)
        assert beyond["content"] == []
        # Matches come in the same (creation) order as in the unfiltered list.
        everything = await walk(zp, size)
        assert [i for i in everything.ids if i in matching] == seen.ids
        assert set(everything.ids) == set(live)
    finally:
        await delete_all(client, token)
