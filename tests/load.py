"""CPU hogs for a whole pytest session: ``SCAMPERLAB_TEST_LOAD=N`` keeps N cores busy.

Users run labs on laptops and shared CI runners, so the suite must pass on a
machine whose cores are all taken. Each hog is a real process spinning in
pure Python at normal priority (not a sleep, not a niced process), started
before the first test and killed by its PID after the last one; a hog also
stops by itself as soon as its pytest is gone (its parent changes), so not
even a killed pytest leaves one behind.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

ENV = "SCAMPERLAB_TEST_LOAD"

# Spins, and checks every few milliseconds that the pytest that started it still exists.
_HOG = """
import os, sys
parent = int(sys.argv[1])
while os.getppid() == parent:
    for _ in range(100_000):
        pass
"""


def hogs_wanted(environ: Mapping[str, str] = os.environ) -> int:
    """How many hogs ``SCAMPERLAB_TEST_LOAD`` asks for (0 when unset or empty)."""
    raw = environ.get(ENV, "").strip()
    if not raw:
        return 0
    if not raw.isdigit():
        raise ValueError(f"{ENV} must be a number of CPU hogs, not {raw!r}")
    return int(raw)


@contextmanager
def cpu_hogs(count: int) -> Iterator[list[int]]:
    """Run ``count`` busy processes for the duration of the block; yields their PIDs."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _HOG, str(os.getpid())],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(count)
    ]
    try:
        yield [p.pid for p in procs]
    finally:
        for proc in procs:
            proc.kill()
        for proc in procs:
            proc.wait()
