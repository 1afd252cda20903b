"""The failure limiter on its own: lock-out, decay, per-target rules, memory bound, clients."""

from __future__ import annotations

import ipaddress

import pytest

from fleetgate.errors import TooManyFailures
from fleetgate.services.authlimits import AuthLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(clock: Clock, **kwargs: object) -> AuthLimiter:
    options: dict[str, object] = {
        "client_failures": 5,
        "target_failures": 8,
        "window_s": 50.0,
        "max_tracked": 1000,
    }
    return AuthLimiter(**(options | kwargs), clock=clock)  # type: ignore[arg-type]


def refused(lim: AuthLimiter, client: str, target: str | None = None) -> int | None:
    """Retry-After of a refusal, or None when admitted."""
    try:
        lim.admit(client, target)
    except TooManyFailures as exc:
        return exc.retry_after_s
    return None


def test_a_client_is_refused_after_its_failures_then_forgiven_as_they_drain() -> None:
    clock = Clock()
    lim = limiter(clock)
    for _ in range(4):
        assert refused(lim, "198.51.100.7") is None
        lim.failed("198.51.100.7")
    assert refused(lim, "198.51.100.7") is None  # the 5th attempt is still allowed
    lim.failed("198.51.100.7")
    # Full: 5 failures drain at 5 per 50 s, so one more attempt in 10 s.
    assert refused(lim, "198.51.100.7") == 10
    assert refused(lim, "198.51.100.8") is None  # others are not affected
    clock.now += 9.5
    assert refused(lim, "198.51.100.7") == 1
    clock.now += 0.5
    assert refused(lim, "198.51.100.7") is None
    lim.failed("198.51.100.7")
    assert refused(lim, "198.51.100.7") == 10  # a steady guesser gets one try per 10 s
    clock.now += 50
    for _ in range(4):
        lim.failed("198.51.100.7")
    assert refused(lim, "198.51.100.7") is None  # drained completely


def test_successes_are_never_counted() -> None:
    clock = Clock()
    lim = limiter(clock)
    for _ in range(1000):
        lim.admit("198.51.100.7", "1101000001")
        lim.succeeded("198.51.100.7", "1101000001")
    assert refused(lim, "198.51.100.7", "1101000001") is None


def test_an_attacked_target_admits_only_clients_that_authenticated_on_it() -> None:
    clock = Clock()
    lim = limiter(clock)
    target = "1101000001"
    lim.failed("203.0.113.50", target)  # the target's bucket exists from the first failure
    lim.admit("192.0.2.1", target)
    lim.succeeded("192.0.2.1", target)  # its owner, working as usual
    for n in range(7):  # a distributed guess: each address fails once
        lim.failed(f"203.0.113.{n}", target)
    assert refused(lim, "203.0.113.99", target) == 7  # a fresh address: refused
    assert refused(lim, "192.0.2.1", target) is None  # the owner: still admitted
    assert refused(lim, "203.0.113.99", "1101000002") is None  # other instances: not affected
    # A known client that fails is known no more.
    lim.failed("192.0.2.1", target)
    assert refused(lim, "192.0.2.1", target) is not None


def test_a_client_known_from_before_the_attack_keeps_access_for_a_day() -> None:
    clock = Clock()
    lim = limiter(clock)
    target = "1101000001"
    lim.succeeded("192.0.2.1", target)  # the owner's last success: before any failure
    clock.now += 3600
    for n in range(4):  # four addresses, each under its own limit, fill the target's
        for _ in range(2):
            lim.failed(f"203.0.113.{n}", target)
    assert refused(lim, "203.0.113.99", target) is not None
    for _ in range(10):
        assert refused(lim, "192.0.2.1", target) is None
        clock.now += 6
    # Known for 24 h after its last success, not for ever.
    clock.now = 1000.0 + 86_400 + 1
    for n in range(4):
        for _ in range(2):
            lim.failed(f"203.0.113.{n}", target)
    assert refused(lim, "192.0.2.1", target) is not None


def test_known_for_zero_hours_admits_nobody_to_an_attacked_target() -> None:
    lim = limiter(Clock(), known_for_s=0)
    lim.succeeded("192.0.2.1", "1101000001")
    for n in range(8):
        lim.failed(f"203.0.113.{n}", "1101000001")
    assert refused(lim, "192.0.2.1", "1101000001") is not None


def test_remembered_clients_are_bounded_the_least_recently_successful_go_first() -> None:
    clock = Clock()
    lim = limiter(clock, max_known=100)
    for n in range(100):
        lim.succeeded(f"192.0.2.{n}", "1101000001")
    lim.succeeded("192.0.2.0", "1101000001")  # refreshed: now the most recent
    lim.succeeded("198.51.100.1", "1101000002")  # pushes out the oldest: 192.0.2.1
    assert len(lim._known) == 100
    for n in range(8):
        lim.failed(f"203.0.113.{n}", "1101000001")
    assert refused(lim, "192.0.2.0", "1101000001") is None
    assert refused(lim, "192.0.2.1", "1101000001") is not None
    assert refused(lim, "192.0.2.2", "1101000001") is None


def test_no_target_limit_when_turned_off() -> None:
    lim = limiter(Clock(), target_failures=0)
    for n in range(100):
        lim.failed(f"203.0.113.{n}", "1101000001")
    assert refused(lim, "203.0.113.200", "1101000001") is None


def test_memory_is_bounded_and_the_least_recent_failures_go_first() -> None:
    lim = limiter(Clock(), max_tracked=100)
    for _ in range(5):
        lim.failed("198.51.100.1")
    for n in range(99):
        lim.failed(f"10.0.{n // 250}.{n % 250}")
    assert refused(lim, "198.51.100.1") is not None
    lim.failed("10.9.9.9")  # the 101st client pushes out the oldest: 198.51.100.1
    assert len(lim._clients.items) == 100
    assert refused(lim, "198.51.100.1") is None


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "client"),
    [
        ("198.51.100.7", None, [], "198.51.100.7"),
        # Without a trusted proxy the header is ignored (anyone can send it).
        ("198.51.100.7", "203.0.113.9", [], "198.51.100.7"),
        ("198.51.100.7", "203.0.113.9", ["10.0.0.0/8"], "198.51.100.7"),
        # From a trusted proxy: the last address before the trusted ones.
        ("10.0.0.2", "203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "1.2.3.4, 203.0.113.9, 10.0.0.3", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "garbage, 203.0.113.9", ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", "10.0.0.5", ["10.0.0.0/8"], "10.0.0.5"),
        # IPv6 clients count by /64; mapped IPv4 as IPv4.
        ("2001:db8:1:2:3:4:5:6", None, [], "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", None, [], "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", None, [], "198.51.100.7"),
        (None, None, [], "unknown"),
    ],
)
def test_client_key(
    peer: str | None, forwarded: str | None, trusted: list[str], client: str
) -> None:
    nets = [ipaddress.ip_network(t) for t in trusted]
    lim = AuthLimiter(
        client_failures=5, target_failures=5, window_s=60, max_tracked=100, trusted_proxies=nets
    )
    assert lim.client_key(peer, forwarded) == client
