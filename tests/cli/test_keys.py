"""`fleetgate keys rotate` against a running server, on SQLite and on PostgreSQL.

The rotation is stopped after its first batch (as a crash would leave it: a key file with both
keys, rows under both), checked, resumed, and finished; a restarted server then knows only the
new key. Throughout, every token authenticates and the listings show the same tokens.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from fleetgate.context import Context
from fleetgate.keyring import KeySource
from fleetgate.services import keyrotation, partners
from fleetgate.settings import SECRET_KEY_FILE, Settings
from tests.processes import Cli, base_env
from tests.support import BACKENDS, Instance, fresh_database, live_server, make_settings

QUIET = {"enabled": False}


@pytest.fixture(params=BACKENDS)
async def setup(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Settings, Cli]]:
    data_dir = tmp_path / "data"
    async with fresh_database(request.param, tmp_path) as url:
        settings = make_settings(data_dir, url, runner=QUIET, delivery=QUIET, ratelimits=QUIET)
        yield settings, Cli(request.param, data_dir, base_env(data_dir, url))


async def _counts(settings: Settings) -> dict[int, int]:
    ctx = Context.from_settings(settings)
    try:
        return await keyrotation.tokens_by_key(db=ctx.db)
    finally:
        await ctx.db.dispose()


async def _partner(settings: Settings) -> str:
    ctx = Context.from_settings(settings)
    try:
        async with ctx.db.transaction() as session:
            return (await partners.create_partner(session=session, name="keys"))[1]
    finally:
        await ctx.db.dispose()


async def _listing(http: httpx.AsyncClient, partner: str) -> dict[int, str]:
    r = await http.get(f"/partner/getInstances/{partner}")
    assert r.status_code == 200, r.text
    return {item["idInstance"]: item["apiTokenInstance"] for item in r.json()}


async def _all_authenticate(http: httpx.AsyncClient, live: list[Instance]) -> None:
    for inst in live:
        r = await http.get(inst.url("getSettings"))
        assert r.status_code == 200, (inst.id, r.text)
        r = await http.get(f"/instances/{inst.id}/token/{inst.token}/status")
        assert r.status_code == 200, (inst.id, r.text)


async def test_rotation_is_resumable_and_no_token_stops_working(
    setup: tuple[Settings, Cli],
) -> None:
    settings, cli = setup
    with live_server(settings) as server:
        partner = await _partner(settings)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            live = [await _create(http, partner) for _ in range(3)]
            gone = await _create(http, partner)
            r = await http.post(
                f"/partner/deleteInstanceAccount/{partner}", json={"idInstance": gone.id}
            )
            assert r.json() == {"deleteInstanceAccount": True}
            listed = await _listing(http, partner)
            assert listed == {i.id: i.token for i in [*live, gone]}
            assert await _counts(settings) == {1: 4}

            # Interrupted after one batch of one token: both keys on file, rows under both.
            out = cli.ok("keys", "rotate", "--batch-size", "1", "--max-batches", "1")
            assert "3 tokens are still under key 1" in out, out
            assert KeySource(path=settings.data_dir / SECRET_KEY_FILE).load().ids == (2, 1)
            assert await _counts(settings) == {1: 3, 2: 1}
            await _all_authenticate(http, live)
            assert await _listing(http, partner) == listed
            # The running server picked up the new key for new tokens.
            live.append(await _create(http, partner))
            assert await _counts(settings) == {1: 3, 2: 2}

            out = cli.ok("keys", "rotate")
            assert "Old keys dropped" in out, out
            assert KeySource(path=settings.data_dir / SECRET_KEY_FILE).load().ids == (2,)
            assert await _counts(settings) == {2: 5}
            await _all_authenticate(http, live)
            listed = await _listing(http, partner)
            assert listed == {i.id: i.token for i in [*live, gone]}
            zapi = await http.get(
                "/instances?page=1&pageSize=10", headers={"Authorization": f"Bearer {partner}"}
            )
            assert {int(i["id"]): i["token"] for i in zapi.json()["content"]} == {
                i.id: i.token for i in live
            }
            # A new token (updateApiToken) after the rotation: the old one stops working.
            old = live[0]
            new_token = (await http.get(old.url("updateApiToken"))).json()["apiTokenInstance"]
            assert (await http.get(old.url("getSettings"))).status_code == 401
            live[0] = Instance(old.id, new_token, partner)
            await _all_authenticate(http, live)

    # A server started now reads only the new key.
    with live_server(settings) as server:
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            await _all_authenticate(http, live)
            assert await _listing(http, partner) == {i.id: i.token for i in [*live, gone]}
    assert cli.ok("keys", "status").splitlines() == ["key 2: current, 5 tokens"]


def test_keys_from_the_environment_are_not_rotated_in_place(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = base_env(data_dir) | {"FLEETGATE_SECRET_KEY": "ab" * 32}
    r = Cli("sqlite", data_dir, env).run("keys", "rotate")
    assert r.returncode == 2
    assert "FLEETGATE_SECRET_KEY" in r.stderr
    assert not (data_dir / SECRET_KEY_FILE).exists()


async def _create(http: httpx.AsyncClient, partner: str) -> Instance:
    r = await http.post(f"/partner/createInstance/{partner}", json={})
    assert r.status_code == 200, r.text
    return Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], partner)


async def _webhook_key_id(settings: Settings, id_instance: int) -> int:
    """The key id the stored webhookUrlToken ciphertext names (its first byte), read raw."""
    ctx = Context.from_settings(settings)
    try:
        async with ctx.db.reading() as session:
            stmt = text("SELECT webhook_token_cipher FROM instances WHERE id_instance = :i")
            blob = bytes(await session.scalar(stmt, {"i": id_instance}))
    finally:
        await ctx.db.dispose()
    assert b"hook-secret" not in blob
    return blob[0]


async def test_rotation_re_encrypts_webhook_tokens(setup: tuple[Settings, Cli]) -> None:
    settings, cli = setup
    with live_server(settings) as server:
        partner = await _partner(settings)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            r = await http.post(
                f"/partner/createInstance/{partner}", json={"webhookUrlToken": "hook-secret"}
            )
            inst = Instance(r.json()["idInstance"], r.json()["apiTokenInstance"], partner)
            assert await _webhook_key_id(settings, inst.id) == 1
            # The instance token and the webhookUrlToken: both under key 1.
            assert await _counts(settings) == {1: 2}
            cli.ok("keys", "rotate")
            assert await _webhook_key_id(settings, inst.id) == 2
            assert await _counts(settings) == {2: 2}
            r = await http.get(inst.url("getSettings"))
            assert r.json()["webhookUrlToken"] == "hook-secret"
    assert cli.ok("keys", "status").splitlines() == ["key 2: current, 2 tokens"]
