"""Counting how the examples of a "valid or refused" property ended.

Such a property passes just as well if every input is refused, so these tests count both ends
and require each to be reached: a parser that refuses everything (or nothing) fails them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import event, given, settings
from hypothesis.strategies import SearchStrategy

from fleetgate.errors import FleetgateError, InvalidInput

T = TypeVar("T")
ACCEPTED = "accepted"
REFUSED = "refused"


class Outcomes:
    """Accepted and refused examples of one property run."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def parsed(
        self,
        parse: Callable[[Any], T],
        data: Any,
        refusal: type[FleetgateError] = InvalidInput,
    ) -> T | None:
        """What ``parse`` makes of ``data``, or None if it refused it with a clear message."""
        try:
            found = parse(data)
        except refusal as exc:
            assert isinstance(exc.message, str) and exc.message.strip(), exc
            self._count(REFUSED)
            return None
        self._count(ACCEPTED)
        return found

    def assert_both(self, *, min_fraction: float = 0.05) -> None:
        """Both ends were reached, each in at least ``min_fraction`` of the examples."""
        total = self.counts.total()
        assert total > 0, "the property ran no examples"
        for outcome in (ACCEPTED, REFUSED):
            share = self.counts[outcome] / total
            assert share >= min_fraction, f"{outcome} in {share:.1%} of {total}: {self.counts}"

    def _count(self, outcome: str) -> None:
        self.counts[outcome] += 1
        event(outcome)  # shown by `pytest --hypothesis-show-statistics`


def counted(
    config: settings, **strategies: SearchStrategy[Any]
) -> Callable[[Callable[..., None]], Callable[[], None]]:
    """A test running ``prop(outcomes, **drawn)`` as a property, then requiring both ends.

    ``config`` should derandomize: the counts must reach both ends on every run, not on most.
    """

    def wrap(prop: Callable[..., None]) -> Callable[[], None]:
        def test() -> None:
            outcomes = Outcomes()

            @config
            @given(**strategies)
            def check(**drawn: Any) -> None:
                prop(outcomes, **drawn)

            check()
            outcomes.assert_both()

        test.__doc__ = prop.__doc__
        return test

    return wrap
