"""What a lab may leave behind, measured from the outside."""

from __future__ import annotations

import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from scamperlab.emulation.netns import processes_in
from scamperlab.lab.state import process_starttime


def now_ticks() -> int:
    """Now, in the unit of a process's start time in /proc/PID/stat (ticks since boot)."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK")) + 1


def left_in(namespaces: set[int], born_by: int) -> list[int]:
    """Processes in ``namespaces`` that already existed at ``born_by`` (see :func:`now_ticks`).

    The kernel reuses a freed namespace's inode number, so a process found by
    inode alone may belong to a namespace made since (another lab's). One that
    started before the snapshot cannot: its namespace existed then, and then
    it was the lab's.
    """
    return [
        pid
        for pid in processes_in(namespaces)
        if (start := process_starttime(pid)) is not None and start <= born_by
    ]


def root_links() -> set[str]:
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def host_mounts() -> set[str]:
    """The host's mounts (mount point and source): a lab mounts only in its own namespaces."""
    lines = Path("/proc/self/mountinfo").read_text().splitlines()
    return {" ".join(line.split()[3:5]) for line in lines}


def alive(pid: int, starttime: int | None) -> bool:
    current = process_starttime(pid)
    if current is None or current != starttime:
        return False
    # A zombie has exited already; its parent (init, for scamper's helper) reaps it.
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def describe(pid: int) -> str:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[:2]
    except OSError:
        return f"{pid} (gone)"
    return f"{pid} state={state[0]} ppid={state[1]}: {argv.strip()}"


@dataclass
class Snapshot:
    """What a running lab has made: checked again after it is gone."""

    namespaces: set[int]
    processes: dict[int, int | None]
    state_dir: Path
    links_before: set[str]
    mounts_before: set[str] | None = None
    taken: int = field(default_factory=now_ticks)

    def assert_gone(self) -> None:
        left = [describe(pid) for pid in left_in(self.namespaces, self.taken)]
        assert left == [], f"processes left in lab namespaces: {left}"
        left = [describe(pid) for pid, start in self.processes.items() if alive(pid, start)]
        assert left == [], f"lab processes still running: {left}"
        assert not self.state_dir.exists(), f"state directory left: {self.state_dir}"
        assert root_links() == self.links_before, "interfaces left in the host namespace"
        if self.mounts_before is not None:
            assert host_mounts() == self.mounts_before, "mounts changed in the host namespace"
