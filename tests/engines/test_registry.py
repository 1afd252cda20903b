"""Engines are discovered through entry points and built once per process."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from fleetgate.engines.base import Engine, EngineFactory, EngineHost
from fleetgate.engines.registry import GROUP, EngineRegistry, available_engines
from fleetgate.engines.sandbox import SandboxEngine
from fleetgate.storage.blobs import BlobStore
from fleetgate.storage.db import Database
from fleetgate.storage.signals import Signals
from tests.support import make_settings, sqlite_url


@pytest.fixture
async def host(tmp_path: Path) -> AsyncIterator[EngineHost]:
    """A host on a SQLite file that no test here ever opens a connection to."""
    db = Database(sqlite_url(tmp_path))
    try:
        settings = make_settings(tmp_path, sqlite_url(tmp_path))
        blobs = BlobStore.from_settings(settings.media, tmp_path)
        yield EngineHost(db=db, signals=Signals(), settings=settings, blobs=blobs)
    finally:
        await db.dispose()


def test_group_is_fleetgate_engines() -> None:
    assert GROUP == "fleetgate.engines"


def test_sandbox_is_declared_under_the_entry_point_group() -> None:
    declared = {ep.name: ep.value for ep in entry_points(group="fleetgate.engines")}
    assert declared.get("sandbox") == "fleetgate.engines.sandbox:SandboxEngine"


def test_available_engines_loads_the_sandbox_factory() -> None:
    factories = available_engines()
    assert factories["sandbox"] is SandboxEngine


async def test_registry_finds_the_sandbox_engine_without_being_told(host: EngineHost) -> None:
    engine = EngineRegistry(host).get("sandbox")
    assert isinstance(engine, SandboxEngine)
    assert engine.name == "sandbox"
    assert engine.host is host


async def test_every_installed_engine_is_named_like_its_entry_point(host: EngineHost) -> None:
    registry = EngineRegistry(host)
    for name in available_engines():
        assert registry.get(name).name == name


async def test_registry_builds_each_engine_once_and_only_on_use(host: EngineHost) -> None:
    built: list[tuple[str, EngineHost]] = []

    def counting(name: str) -> EngineFactory:
        def factory(host: EngineHost) -> Engine:
            built.append((name, host))
            return SandboxEngine(host)

        return factory

    registry = EngineRegistry(host, {"a": counting("a"), "b": counting("b")})
    assert built == []
    first = registry.get("a")
    assert registry.get("a") is first
    assert built == [("a", host)]
    other = registry.get("b")
    assert other is not first
    assert registry.get("b") is other
    assert built == [("a", host), ("b", host)]


async def test_separate_registries_build_separate_engines(host: EngineHost) -> None:
    assert EngineRegistry(host).get("sandbox") is not EngineRegistry(host).get("sandbox")


async def test_unknown_engine_is_a_key_error(host: EngineHost) -> None:
    registry = EngineRegistry(host, {})
    with pytest.raises(KeyError):
        registry.get("sandbox")
    with pytest.raises(KeyError):
        EngineRegistry(host).get("no-such-engine")


async def test_unknown_installed_name_is_a_key_error(host: EngineHost) -> None:
    with pytest.raises(KeyError):
        EngineRegistry(host).get("telegraph")


def test_a_process_loads_only_the_engines_it_uses(tmp_path: Path) -> None:
    """The API and a runner with only sandbox instances never import another engine."""
    script = (
        "import asyncio, sys\n"
        "from fleetgate.engines.base import EngineHost\n"
        "from fleetgate.engines.registry import EngineRegistry, installed_engine_names\n"
        "from fleetgate.storage.db import Database\n"
        "from fleetgate.storage.signals import Signals\n"
        "from fleetgate.storage.blobs import BlobStore\n"
        "from tests.support import make_settings, sqlite_url\n"
        "from pathlib import Path\n"
        f"tmp = Path({str(tmp_path)!r})\n"
        "settings = make_settings(tmp, sqlite_url(tmp))\n"
        "blobs = BlobStore.from_settings(settings.media, tmp)\n"
        "host = EngineHost(db=Database(sqlite_url(tmp)), signals=Signals(), settings=settings, "
        "blobs=blobs)\n"
        "EngineRegistry(host).get('sandbox')\n"
        "assert 'whatsapp' in installed_engine_names()\n"
        "print(sorted(m for m in sys.modules if m.startswith(('fleetgate_whatsapp', 'neonize'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
