"""When to try a failed webhook delivery again, and when to give up."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Pause ``pause_s`` after a failure, growing by ``multiplier`` up to ``max_pause_s``;
    give up (dead letter) once the next attempt would fall ``give_up_after_s`` past creation.

    The defaults are GREEN-API's: wait up to 180 s for an answer, retry every 60 s, for 24 h.
    """

    timeout_s: float = 180.0
    pause_s: float = 60.0
    multiplier: float = 1.0
    max_pause_s: float = 3600.0
    give_up_after_s: float = 86_400.0

    def pause_ms(self, attempts: int) -> int:
        """The pause after the ``attempts``-th failed attempt (1-based)."""
        pause = self.pause_s * self.multiplier ** max(attempts - 1, 0)
        return int(min(pause, self.max_pause_s) * 1000)

    def next_attempt_ms(self, *, attempts: int, created_ms: int, now: int) -> int | None:
        """When to try again after ``attempts`` failures; None to give up."""
        at = now + self.pause_ms(attempts)
        if at > created_ms + int(self.give_up_after_s * 1000):
            return None
        return at
