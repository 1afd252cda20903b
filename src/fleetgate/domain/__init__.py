"""The ground floor: types and enums every layer speaks (see docs/ and DESIGN's layers).

Nothing here imports from above: only ``fleetgate.errors``, ``fleetgate.ids``,
``fleetgate.clock`` and the standard library. Enums are ``StrEnum`` (or ``IntEnum``), so their
members compare equal to the plain values the database and the wire formats hold.
"""
