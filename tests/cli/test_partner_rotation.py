"""After a partner token leaked: revoke it, replace every instance token, issue a new one.

Against a running server, on SQLite and on PostgreSQL. The rotation is stopped after its first
batch (as a crash would leave it), then resumed. The command prints counts only; the new tokens
reach the partner through getInstances once it has a new partner token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.processes import UNAUTHORIZED, Cli, base_env
from tests.support import BACKENDS, Instance, fresh_database, live_server, make_settings

QUIET = {"enabled": False}
# On PostgreSQL the commit's NOTIFY drops the token from the server's authentication cache,
# long before the cache's time to live would. On SQLite the command runs in another process
# than the server, whose signals stay within it: the cache forgets within auth_cache_s.
CACHE_S = {"postgres": 60.0, "sqlite": 1.0}
WAIT_S = 10.0


@pytest.fixture(params=BACKENDS)
async def setup(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[str, Cli]]:
    data_dir = tmp_path / "data"
    async with fresh_database(request.param, tmp_path) as url:
        yield url, Cli(request.param, data_dir, base_env(data_dir, url))


async def _status(http: httpx.AsyncClient, inst: Instance) -> int:
    return (await http.get(inst.url("getSettings"))).status_code


async def _refused(http: httpx.AsyncClient, inst: Instance) -> None:
    """The token is refused, within a wait far below the PostgreSQL cache's time to live."""
    deadline = time.monotonic() + WAIT_S
    while (code := await _status(http, inst)) == 200 and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert code == 401, (inst.id, code)


async def _listing(http: httpx.AsyncClient, partner: str) -> dict[int, str]:
    r = await http.get(f"/partner/getInstances/{partner}")
    assert r.status_code == 200, r.text
    return {item["idInstance"]: item["apiTokenInstance"] for item in r.json()}


async def test_leaked_partner_token_is_contained(setup: tuple[str, Cli]) -> None:
    url, cli = setup
    settings = make_settings(
        cli.data_dir,
        url,
        runner=QUIET,
        delivery=QUIET,
        ratelimits=QUIET,
        instances={"auth_cache_s": CACHE_S[cli.backend]},
    )
    leaked = cli.create("leaky")
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            made = []
            for _ in range(4):
                r = await http.post(f"/partner/createInstance/{leaked}", json={})
                made.append(Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], leaked))
            *old, gone = made
            r = await http.post(
                f"/partner/deleteInstanceAccount/{leaked}", json={"idInstance": gone.id}
            )
            assert r.json() == {"deleteInstanceAccount": True}
            assert [await _status(http, i) for i in old] == [200] * 3  # cached now

            printed = cli.ok("partner", "revoke", "leaky")
            assert (await http.get(f"/partner/getInstances/{leaked}")).content == UNAUTHORIZED
            assert [await _status(http, i) for i in old] == [200] * 3  # revoking is not enough

            # Stopped after one batch of one: one token replaced, two still to do.
            out = cli.ok(
                "partner", "rotate-instance-tokens", "leaky", "--batch-size", "1",
                "--max-batches", "1",
            )  # fmt: skip
            printed += out
            assert "1 instance tokens of partner 'leaky' replaced" in out, out
            assert "2 instances still have their old token" in out, out
            old.sort(key=lambda i: i.id)  # the lowest id goes first
            await _refused(http, old[0])
            assert [await _status(http, i) for i in old[1:]] == [200, 200]

            out = cli.ok("partner", "rotate-instance-tokens", "leaky", "--batch-size", "1")
            printed += out
            assert "Went on with the rotation" in out, out
            assert "2 instance tokens of partner 'leaky' replaced" in out, out
            assert "Every instance of the partner has a new token" in out, out
            for inst in old:
                await _refused(http, inst)

            out = cli.ok("partner", "new-token", "leaky")
            assert "is active again" in out, out
            fresh = out.splitlines()[-1]
            assert fresh != leaked
            assert (await http.get(f"/partner/getInstances/{leaked}")).content == UNAUTHORIZED
            listed = await _listing(http, fresh)
            assert set(listed) == {i.id for i in made}
            new = [Instance(i.id, listed[i.id], fresh) for i in old]
            assert all(n.token != o.token for n, o in zip(new, old, strict=True))
            assert [await _status(http, i) for i in new] == [200] * 3

            # Both at once, as an operator would after a second leak.
            out = cli.ok("partner", "revoke", "leaky", "--rotate-instance-tokens")
            printed += out
            assert "revoked" in out
            assert "3 instance tokens of partner 'leaky' replaced" in out, out
            for inst in new:
                await _refused(http, inst)
            newest = cli.ok("partner", "new-token", "leaky", "--json")
            third = await _listing(http, newest.split('"partnerToken":"')[1].split('"')[0])
            assert not set(third.values()) & {i.token for i in [*old, *new]} - {gone.token}
    # Nothing secret was printed: counts only.
    for token in [*listed.values(), *third.values(), *(i.token for i in made)]:
        assert token not in printed


def test_rotating_an_unknown_partner_fails_cleanly(cli: Cli) -> None:
    r = cli.run("partner", "rotate-instance-tokens", "nobody")
    assert r.returncode == 1
    assert "no partner named 'nobody'" in r.stderr
    r = cli.run("partner", "new-token", "nobody")
    assert r.returncode == 1
    assert "no partner named 'nobody'" in r.stderr
