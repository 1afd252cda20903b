"""Engines are found through the ``fleetgate.engines`` entry point group."""

from __future__ import annotations

from importlib.metadata import entry_points

from fleetgate.engines.base import Engine, EngineFactory, EngineHost

GROUP = "fleetgate.engines"


def available_engines() -> dict[str, EngineFactory]:
    """Engine factories by name, as installed packages declare them."""
    return {ep.name: ep.load() for ep in entry_points(group=GROUP)}


class EngineRegistry:
    """The engines of one process, each built once on first use."""

    def __init__(self, host: EngineHost, factories: dict[str, EngineFactory] | None = None) -> None:
        self._host = host
        self._factories = factories if factories is not None else available_engines()
        self._engines: dict[str, Engine] = {}

    def built(self) -> list[Engine]:
        """The engines built so far."""
        return list(self._engines.values())

    def get(self, name: str) -> Engine:
        """The engine called ``name`` (KeyError if no such engine is installed)."""
        engine = self._engines.get(name)
        if engine is None:
            engine = self._engines[name] = self._factories[name](self._host)
        return engine
