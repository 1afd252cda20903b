"""Counting how the examples of a "valid or refused" property ended.

Such a property passes just as well if every input is refused, so the tests count both ends
and require each to be reached: a parser that refuses everything (or nothing) fails them.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import event

ACCEPTED = "accepted"
REFUSED = "refused"


class Outcomes:
    """Accepted and refused examples of one property run."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()

    def accepted(self) -> None:
        self.counts[ACCEPTED] += 1
        event(ACCEPTED)  # shown by `pytest --hypothesis-show-statistics`

    def refused(self) -> None:
        self.counts[REFUSED] += 1
        event(REFUSED)

    def assert_both(self, *, min_fraction: float = 0.05) -> None:
        """Both ends were reached, each in at least ``min_fraction`` of the examples."""
        total = self.counts.total()
        assert total > 0, "the property ran no examples"
        for outcome in (ACCEPTED, REFUSED):
            share = self.counts[outcome] / total
            assert share >= min_fraction, f"{outcome} in {share:.1%} of {total}: {self.counts}"
