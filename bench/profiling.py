"""Where the server's time goes: py-spy samples the server process while a workload runs.

py-spy (a dev dependency) attaches to the running server from outside, so the server runs
unchanged. Samples are written as collapsed stacks (``frame;frame;... count`` per line) and
summed here per function: *self* is time spent in the function's own code, *total* includes
everything it called.
"""

from __future__ import annotations

import inspect
import re
import shutil
import signal
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

# "function (path/to/file.py:123)" -> "function (path/to/file.py)"; py-spy's frame format.
_LINE_NO = re.compile(r":\d+\)$")


def _idle_leaves() -> frozenset[str]:
    """Leaf frames that are a thread waiting, not working.

    Sampling without pausing the process (``--nonblocking``), py-spy cannot tell that a thread
    is blocked in C, so aiosqlite's worker thread waiting for its next query in
    ``tx.get()`` shows up as busy (on SQLite that was most of the samples). Those samples are
    left out of the hot spots.
    """
    try:
        import aiosqlite.core
    except ImportError:
        return frozenset()
    lines, first = inspect.getsourcelines(aiosqlite.core._connection_worker_thread)
    return frozenset(
        f"_connection_worker_thread (aiosqlite/core.py:{first + n})"
        for n, line in enumerate(lines)
        if "tx.get()" in line
    )


def py_spy() -> str:
    """The py-spy executable next to this Python (the venv) or on PATH."""
    beside = Path(sys.executable).with_name("py-spy")
    found = str(beside) if beside.exists() else shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is not installed: pip install -e '.[dev]'")
    return found


class SpyRecorder:
    """Samples a process with py-spy for as long as the ``with`` block runs."""

    def __init__(self, pid: int, output: Path, rate: int = 100) -> None:
        self._cmd = [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--format",
            "raw",
            "--output",
            str(output),
            "--rate",
            str(rate),
            # Sampling without pausing the server keeps its figures close to unprofiled ones.
            "--nonblocking",
        ]
        self.output = output
        self._proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> SpyRecorder:
        self._proc = subprocess.Popen(
            self._cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._proc is None:
            return
        # py-spy writes its output when interrupted, as on Ctrl-C.
        self._proc.send_signal(signal.SIGINT)
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()


@dataclass(frozen=True, slots=True)
class HotSpots:
    samples: int
    own: list[tuple[str, int]]
    total: list[tuple[str, int]]


def hot_spots(collapsed: Path, top: int = 15) -> HotSpots:
    """The functions with the most samples, by own time and by total time (idle waits left out)."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    idle = _idle_leaves()
    for line in collapsed.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit() or stack.rsplit(";", 1)[-1] in idle:
            continue
        count = int(count_text)
        frames = [_LINE_NO.sub(")", f) for f in stack.split(";")]
        samples += count
        own[frames[-1]] += count
        for frame in set(frames):
            total[frame] += count
    # The trunk (process start, event loop) is in nearly every sample and says nothing.
    trunk = max(total.values(), default=0) * 0.98
    branches = [(name, n) for name, n in total.most_common() if n < trunk]
    return HotSpots(samples, own.most_common(top), branches[:top])


def describe(spots: HotSpots) -> str:
    """The hot spots as two short Markdown tables."""
    lines = [f"{spots.samples} samples"]
    for title, ranked in (("own time", spots.own), ("total time", spots.total)):
        lines += ["", f"| % {title} | function |", "|---:|---|"]
        lines += [f"| {n / spots.samples * 100:.1f} | `{name}` |" for name, n in ranked]
    return "\n".join(lines)
