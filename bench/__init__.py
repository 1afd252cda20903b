"""Benchmarks of fleetgate against a real server process: the GREEN-API partner and instance
APIs, webhook delivery to a local receiver, and booting many authorized sandbox instances.

Run them with ``python -m bench.run_all`` (``make bench``); see ``docs/benchmarks.md``.
They measure; they never assert, and they are not part of the test suite.
"""
