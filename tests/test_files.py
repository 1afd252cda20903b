"""The data dir is 0700 and the files fleetgate keeps in it 0600, whatever the umask."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from fleetgate.settings import SECRET_KEY_FILE
from tests.processes import Cli, base_env


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.parametrize("umask", [0o022, 0o000])
def test_serve_keeps_its_files_private(tmp_path: Path, umask: int) -> None:
    data_dir = tmp_path / "data"
    cli = Cli("sqlite", data_dir, base_env(data_dir))
    with cli.serve(umask=umask) as served:
        token = served.stdout().splitlines()[-1]
        r = served.post(f"/partner/createInstance/{token}", json={"webhookUrlToken": "secret"})
        assert r.status_code == 200, r.text
        db = data_dir / "fleetgate.db"
        # While the server runs, SQLite keeps its write-ahead log and shared memory beside it.
        files = [db, db.with_name("fleetgate.db-wal"), db.with_name("fleetgate.db-shm")]
        modes = {p.name: _mode(p) for p in [*files, data_dir / SECRET_KEY_FILE]}
    assert _mode(data_dir) == 0o700
    assert modes == dict.fromkeys(modes, 0o600)
    assert len(modes) == 4


def test_files_an_older_version_left_readable_are_made_private(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)
    old = [data_dir / "fleetgate.db", data_dir / SECRET_KEY_FILE]
    old[0].touch()  # an empty file is an empty SQLite database
    old[1].write_text("ab" * 32 + "\n")
    for path in old:
        path.chmod(0o644)
    cli = Cli("sqlite", data_dir, base_env(data_dir))
    cli.ok("partner", "create", "acme")
    assert [_mode(p) for p in old] == [0o600, 0o600]
    # A folder that existed is the operator's: its mode stays.
    assert _mode(data_dir) == 0o755
