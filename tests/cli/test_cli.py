"""The real `fleetgate` console script, run as subprocesses on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from tests.processes import PARTNER_TOKEN, UNAUTHORIZED, Cli, base_env, words


@pytest.fixture
def sqlite_cli(tmp_path: Path) -> Cli:
    data_dir = tmp_path / "data"
    return Cli("sqlite", data_dir, base_env(data_dir))


def _assert_secret_key_file(data_dir: Path) -> None:
    path = data_dir / "secret.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert re.fullmatch(r"[0-9a-f]{64}\n", path.read_text())


def test_partner_create_prints_the_token_last_and_list_shows_it(cli: Cli) -> None:
    text, as_json = cli.run_many(
        [("partner", "create", "alice"), ("partner", "create", "bob.smith@example-1", "--json")]
    )
    assert (text.returncode, as_json.returncode) == (0, 0), (text.stderr, as_json.stderr)
    out, out_json = text.stdout, as_json.stdout
    lines = out.splitlines()
    assert PARTNER_TOKEN.fullmatch(lines[-1]), out
    assert "alice" in out
    assert lines[-1] not in "\n".join(lines[:-1])

    assert len(out_json.splitlines()) == 1
    body = json.loads(out_json)
    assert list(body) == ["name", "partnerToken"]
    assert body["name"] == "bob.smith@example-1"
    assert PARTNER_TOKEN.fullmatch(body["partnerToken"])
    assert body["partnerToken"] != lines[-1]

    _assert_secret_key_file(cli.data_dir)
    if cli.backend == "sqlite":
        assert (cli.data_dir / "fleetgate.db").exists()
    else:
        assert not (cli.data_dir / "fleetgate.db").exists()

    listing = cli.ok("partner", "list")
    rows = {line.split()[1]: line for line in listing.splitlines() if line.startswith("│")}
    assert set(rows) == {"alice", "bob.smith@example-1"}
    assert all("active" in row for row in rows.values())
    # Only hashes are stored, so the list can never show a token.
    assert "gac." not in listing


def test_duplicate_and_invalid_names_fail_cleanly(cli: Cli) -> None:
    cli.create("acme")
    cases = {
        "acme": "a partner named 'acme' already exists",
        "bad name!": "partner name must be 1-100 characters",
        "a" * 101: "partner name must be 1-100 characters",
        "gpj.\u202eexe": "partner name must be 1-100 characters",
        "a\u2066b": "partner name must be 1-100 characters",
        "a\x85b": "partner name must be 1-100 characters",
    }
    results = cli.run_many([("partner", "create", "--", name) for name in cases])
    for (name, message), r in zip(cases.items(), results, strict=True):
        assert r.returncode == 1, (name, r.stdout, r.stderr)
        assert "gac." not in r.stdout
        assert message in words(r.stderr), r.stderr
        assert "Traceback" not in r.stderr
    listing = cli.ok("partner", "list")
    names = [line.split()[1] for line in listing.splitlines() if line.startswith("│")]
    assert names == ["acme"]


def test_revoke_stops_the_token_on_a_running_server(cli: Cli) -> None:
    made = cli.run_many([("partner", "create", "alice"), ("partner", "create", "bob")])
    assert [r.returncode for r in made] == [0, 0], made
    alice, bob = (r.stdout.splitlines()[-1] for r in made)
    with cli.serve() as srv:
        r = srv.get(f"/partner/getInstances/{alice}")
        assert (r.status_code, r.json()) == (200, [])

        assert "revoked" in cli.ok("partner", "revoke", "alice")

        r = srv.get(f"/partner/getInstances/{alice}")
        assert r.status_code == 200
        assert r.content == UNAUTHORIZED
        r = srv.get(f"/partner/getInstances/{bob}")
        assert (r.status_code, r.json()) == (200, [])
        srv.stop_with_sigterm()
        # Partners existed already, so serve created none and printed no token.
        assert srv.stdout() == ""

    again, listing = cli.run_many([("partner", "revoke", "alice"), ("partner", "list")])
    assert again.returncode == 1
    assert "no active partner named 'alice'" in words(again.stderr)
    assert "Traceback" not in again.stderr

    assert listing.returncode == 0
    rows = [line for line in listing.stdout.splitlines() if line.startswith("│")]
    alice_row = next(row for row in rows if row.split()[1] == "alice")
    bob_row = next(row for row in rows if row.split()[1] == "bob")
    assert "revoked" in alice_row
    assert "active" in bob_row
    assert "revoked" not in bob_row


def test_serve_creates_the_default_partner_once(cli: Cli) -> None:
    with cli.serve("first") as srv:
        health = srv.get("/health")
        assert health.status_code == 200
        assert health.json() == {"status": "ok", "database": "ok"}
        # Printed (and flushed) before the server came up, as the last stdout line.
        lines = srv.stdout().splitlines()
        token = lines[-1]
        assert PARTNER_TOKEN.fullmatch(token), lines
        assert "'default'" in lines[0]
        r = srv.get(f"/partner/getInstances/{token}")
        assert (r.status_code, r.json()) == (200, [])
        srv.stop_with_sigterm()
        assert srv.stdout().splitlines() == lines
        assert "Application shutdown complete" in srv.stderr()
    _assert_secret_key_file(cli.data_dir)

    with cli.serve("second") as srv:
        assert srv.get("/health").json() == {"status": "ok", "database": "ok"}
        # Same key file, same database: the first token still works.
        r = srv.get(f"/partner/getInstances/{token}")
        assert (r.status_code, r.json()) == (200, [])
        srv.stop_with_sigterm()
        assert srv.stdout() == ""

    listing = cli.ok("partner", "list")
    names = [line.split()[1] for line in listing.splitlines() if line.startswith("│")]
    assert names == ["default"]


def test_serve_starts_after_the_default_partner_was_revoked(sqlite_cli: Cli) -> None:
    sqlite_cli.create("default")
    sqlite_cli.ok("partner", "revoke", "default")
    with sqlite_cli.serve() as srv:
        assert srv.get("/health").json() == {"status": "ok", "database": "ok"}
        srv.stop_with_sigterm()


@pytest.mark.parametrize("name", ["[/x]", "[bold]x"])
def test_error_messages_show_the_name_literally(sqlite_cli: Cli, name: str) -> None:
    r = sqlite_cli.run("partner", "revoke", name)
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert f"no active partner named '{name}'" in words(r.stderr)


def test_partner_list_shows_long_names_in_full(sqlite_cli: Cli) -> None:
    name = "a" * 70
    sqlite_cli.create(name)
    assert name in sqlite_cli.ok("partner", "list")


def test_client_token_turns_on_and_off_for_z_api_instance_routes(cli: Cli) -> None:
    token = cli.ok("partner", "create", "acme").splitlines()[-1]
    with cli.serve() as srv:
        auth = {"Authorization": f"Bearer {token}"}
        r = srv.post("/instances/integrator/on-demand", json={"name": "x"}, headers=auth)
        assert r.status_code == 200, r.text
        status = f"/instances/{r.json()['id']}/token/{r.json()['token']}/status"
        assert srv.get(status).status_code == 200

        client_token = cli.ok("partner", "client-token", "acme").splitlines()[-1]
        assert client_token.startswith("F") and client_token.endswith("S")
        assert len(client_token) == 34
        r = srv.get(status)
        assert (r.status_code, r.json()) == (400, {"error": "your client-token is not configured"})
        assert srv.get(status, headers={"Client-Token": client_token}).status_code == 200

        assert "no longer" in cli.ok("partner", "client-token", "acme", "--disable")
        assert srv.get(status).status_code == 200
        srv.stop_with_sigterm()
    missing = cli.run("partner", "client-token", "nobody")
    assert missing.returncode == 1
    assert "no active partner named 'nobody'" in words(missing.stderr)
