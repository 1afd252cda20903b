"""Fixtures of the CLI tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.processes import Cli, base_env
from tests.support import BACKENDS, fresh_database


@pytest.fixture(params=BACKENDS)
async def cli(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Cli]:
    """A fresh data dir, plus a fresh PostgreSQL database for the postgres variant."""
    data_dir = tmp_path / "data"
    async with fresh_database(request.param, tmp_path) as url:
        # On SQLite, use the default database file inside the data dir.
        own_url = None if request.param == "sqlite" else url
        yield Cli(request.param, data_dir, base_env(data_dir, own_url))
