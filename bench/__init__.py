"""Benchmarks of the GREEN-API partner API against a real fleetgate server process.

Run them with ``python -m bench.run_all`` (``make bench``); see ``docs/benchmarks.md``.
They measure; they never assert, and they are not part of the test suite.
"""
