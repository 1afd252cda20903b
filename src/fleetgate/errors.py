"""Domain errors: one small tree, mapped to wire errors by each façade."""

from __future__ import annotations


class FleetgateError(Exception):
    """Base of every error a service raises on purpose."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class NotAuthenticated(FleetgateError):
    """A token was missing, wrong, revoked or belongs to a deleted instance."""


class NotFound(FleetgateError):
    """The thing asked for does not exist, or is not visible to the caller."""


class InvalidInput(FleetgateError):
    """The request was malformed: bad JSON, wrong types, out-of-range values."""


class BodyTooLarge(InvalidInput):
    """The request body exceeded the configured size limit."""


class Exhausted(FleetgateError):
    """A finite resource ran out (for example the idInstance space of a shard prefix)."""


class Forbidden(FleetgateError):
    """The caller may not use this thing (for example an unknown or deleted instance id)."""


class NotReady(FleetgateError):
    """The instance cannot do this now (starting, not authorized, engine not answering)."""


class RateLimited(FleetgateError):
    """Too many requests of one method for one instance; retry after ``retry_after_s``."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(f"rate limit exceeded; retry in {retry_after_s} s")
        self.retry_after_s = retry_after_s


class TooManyFailures(RateLimited):
    """Too many failed token checks from one client or on one instance; retry later."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.message = f"too many failed authentication attempts; retry in {retry_after_s} s"


class Conflict(FleetgateError):
    """The thing is in a state that does not allow this (for example deleting a paid instance)."""
