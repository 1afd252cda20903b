"""The library gate (gate.py): exclusive writers, leased readers, writer preference, a cap on
a start-up that never calls back."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import pytest

from fleetgate_whatsapp.gate import LibraryGate

BOUND_S = 10.0


def _until(check: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + BOUND_S
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {BOUND_S:g} s: {what}")
        time.sleep(0.001)


def _in_thread(body: Callable[[], None]) -> threading.Event:
    """Run ``body`` in a thread; the event is set when it has returned."""
    done = threading.Event()

    def run() -> None:
        body()
        done.set()

    threading.Thread(target=run, daemon=True).start()
    return done


def _waiting(gate: LibraryGate) -> tuple[int, int]:
    """Writers and readers waiting at the gate."""
    return gate._writers_waiting, gate._readers_waiting


def test_a_start_up_excludes_every_other_call_until_released() -> None:
    gate = LibraryGate(lease_s=30.0)
    startup = gate.startup()

    def write() -> None:
        with gate.writer():
            pass

    def read() -> None:
        with gate.reader():
            pass

    writer_done = _in_thread(write)
    reader_done = _in_thread(read)
    _until(lambda: _waiting(gate) == (1, 1), "a writer and a reader wait")
    assert not writer_done.is_set() and not reader_done.is_set()
    startup.release()
    startup.release()  # twice is harmless
    assert writer_done.wait(BOUND_S) and reader_done.wait(BOUND_S)
    assert gate.writes == 2


def test_a_young_reader_holds_writers_and_writers_hold_new_readers() -> None:
    gate = LibraryGate(lease_s=30.0)
    lease = gate.read_hold()

    def write() -> None:
        with gate.writer():
            pass

    writer_done = _in_thread(write)
    _until(lambda: _waiting(gate) == (1, 0), "the writer waits for the reader")
    late_reader = _in_thread(lambda: gate.read_hold().release())
    _until(lambda: _waiting(gate) == (1, 1), "the late reader waits behind the writer")
    assert not writer_done.is_set() and not late_reader.is_set()
    lease.release()
    assert writer_done.wait(BOUND_S) and late_reader.wait(BOUND_S)


def test_a_reader_long_in_its_call_no_longer_holds_writers() -> None:
    gate = LibraryGate(lease_s=0.3)
    began = time.monotonic()
    lease = gate.read_hold()  # a send blocked on the network, never returning here
    with gate.writer():
        waited = time.monotonic() - began
    assert 0.25 <= waited < BOUND_S
    lease.release()  # a lapsed lease released late finds nothing
    with gate.reader():
        pass


def test_a_start_up_that_never_calls_back_is_let_go(caplog: pytest.LogCaptureFixture) -> None:
    gate = LibraryGate(startup_cap_s=0.3)
    gate.startup()  # never released
    began = time.monotonic()
    with caplog.at_level(logging.ERROR), gate.reader():
        waited = time.monotonic() - began
    assert 0.25 <= waited < BOUND_S
    assert "held the gate for over" in caplog.text
