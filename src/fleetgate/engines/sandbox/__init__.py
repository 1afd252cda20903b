"""The built-in ``sandbox`` engine: instances linked to virtual phones of a local network."""

from fleetgate.engines.sandbox.engine import SandboxEngine

__all__ = ["SandboxEngine"]
