"""The service-level types, now on the ground floor (fleetgate.domain)."""

# compat: removed once api/ and tests/ import from fleetgate.domain
from __future__ import annotations

from fleetgate.domain.instances import InstanceListing, InstanceView, NewInstance, StateChange
from fleetgate.domain.partners import Partner

__all__ = ["InstanceListing", "InstanceView", "NewInstance", "Partner", "StateChange"]
