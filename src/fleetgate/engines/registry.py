"""Engines are found through the ``fleetgate.engines`` entry point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from fleetgate.engines.base import Engine, EngineFactory, EngineHost

GROUP = "fleetgate.engines"


def installed_engine_names() -> set[str]:
    """The names of the installed engines, without loading any of them."""
    return {ep.name for ep in entry_points(group=GROUP)}


def available_engines() -> dict[str, EngineFactory]:
    """Engine factories by name, as installed packages declare them."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


class EngineRegistry:
    """The engines of one process, each loaded and built once on first use (a process that
    runs no session of an engine never imports it)."""

    def __init__(self, host: EngineHost, factories: dict[str, EngineFactory] | None = None) -> None:
        self.host = host
        self._factories = factories
        self._engines: dict[str, Engine] = {}

    def built(self) -> list[Engine]:
        """The engines built so far."""
        return list(self._engines.values())

    def get(self, name: str) -> Engine:
        """The engine called ``name`` (KeyError if no such engine is installed)."""
        engine = self._engines.get(name)
        if engine is None:
            engine = self._engines[name] = self._factory(name)(self.host)
        return engine

    def _factory(self, name: str) -> EngineFactory:
        if self._factories is not None:
            return self._factories[name]
        found = entry_points(group=GROUP, name=name)
        if not found:
            raise KeyError(name)
        factory: EngineFactory = next(iter(found)).load()
        return factory
