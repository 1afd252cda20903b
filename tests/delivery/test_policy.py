"""The retry policy and the webhook target policy."""

from __future__ import annotations

import pytest

from fleetgate.delivery.policy import RetryPolicy
from fleetgate.targets import TargetPolicy, TargetRefused


def test_default_policy_is_green_api_timing() -> None:
    policy = RetryPolicy()
    assert policy.timeout_s == 180
    assert [policy.pause_ms(n) for n in (1, 2, 10)] == [60_000] * 3
    created = 0
    assert policy.next_attempt_ms(attempts=1, created_ms=created, now=1000) == 61_000
    last_chance = 86_400_000 - 60_000
    assert policy.next_attempt_ms(attempts=9, created_ms=created, now=last_chance) == 86_400_000
    assert policy.next_attempt_ms(attempts=9, created_ms=created, now=last_chance + 1) is None


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(pause_s=1, multiplier=2, max_pause_s=5)
    assert [policy.pause_ms(n) for n in range(1, 6)] == [1000, 2000, 4000, 5000, 5000]


@pytest.mark.parametrize(
    ("url", "loopback", "private", "refused"),
    [
        ("http://127.0.0.1:9/x", True, False, False),
        ("http://127.0.0.1:9/x", False, False, True),
        ("http://[::1]:9/x", False, False, True),
        ("http://[::ffff:127.0.0.1]:9/x", False, True, True),
        ("http://localhost:9/x", False, False, True),
        ("http://10.1.2.3/x", True, False, True),
        ("http://192.168.1.1/x", True, False, True),
        ("http://169.254.169.254/latest/meta-data", True, False, True),
        ("http://10.1.2.3/x", False, True, False),
        ("http://0.0.0.0/x", True, False, True),
        ("http://93.184.215.14/x", False, False, False),
        ("ftp://93.184.215.14/x", True, True, True),
        ("http:///nohost", True, True, True),
    ],
)
async def test_target_policy(url: str, loopback: bool, private: bool, refused: bool) -> None:
    policy = TargetPolicy(allow_loopback=loopback, allow_private=private)
    if refused:
        with pytest.raises(TargetRefused):
            await policy.check(url)
    else:
        await policy.check(url)
