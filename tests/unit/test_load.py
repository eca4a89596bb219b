"""SCAMPERLAB_TEST_LOAD's CPU hogs: really busy while the block runs, gone after it."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.load import cpu_hogs, hogs_wanted


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / 100  # utime + stime, in USER_HZ


def test_hogs_burn_cpu_and_are_gone_when_the_block_ends() -> None:
    with cpu_hogs(2) as pids:
        assert len(set(pids)) == 2
        time.sleep(1.0)
        assert all(_cpu_seconds(pid) > 0.05 for pid in pids)
    assert not [pid for pid in pids if Path(f"/proc/{pid}").exists()]


def test_a_hog_stops_by_itself_when_its_parent_dies() -> None:
    parent = subprocess.run(
        [
            sys.executable,
            "-c",
            "from tests.load import cpu_hogs\n"
            "import os\nc = cpu_hogs(1)\nprint(c.__enter__()[0], flush=True)\nos._exit(0)",
        ],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    pid = int(parent.stdout)
    deadline = time.monotonic() + 10
    while Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not Path(f"/proc/{pid}").exists()


def test_the_variable_is_a_count() -> None:
    assert hogs_wanted({}) == 0
    assert hogs_wanted({"SCAMPERLAB_TEST_LOAD": " 2 "}) == 2
    with pytest.raises(ValueError, match="number of CPU hogs"):
        hogs_wanted({"SCAMPERLAB_TEST_LOAD": "lots"})
