"""A dead lab's sweep never reaches beyond the lab (root: it signals real processes).

A node's holder interrupted between fork and ``unshare`` is still in the
host's network namespace. The sweep once took that namespace for one of the
lab's and SIGKILLed every process on the machine (the test runner with it).
These tests put such a holder in a stale state file, run the real sweep,
and check that a bystander in the same namespace survives.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from scamperlab.emulation.netns import pinned_namespaces, processes_in
from scamperlab.lab.state import cleanup_stale, process_starttime

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="signals other processes: root")


def test_the_hosts_namespace_is_never_a_labs() -> None:
    own = os.stat("/proc/self/ns/net").st_ino
    assert processes_in({own}) == []
    with pinned_namespaces([os.getpid(), 1]) as namespaces:
        assert namespaces == set()


def test_a_stale_holder_still_in_the_hosts_namespace_takes_nothing_else_with_it(
    tmp_path: Path,
) -> None:
    holder = subprocess.Popen(["sleep", "60"])  # a holder that never unshared
    bystander = subprocess.Popen(["sleep", "60"])  # not the lab's
    try:
        state = {"processes": [{"pid": holder.pid, "kind": "shell", "name": "vp1",
                                "starttime": process_starttime(holder.pid)}]}  # fmt: skip
        (tmp_path / "state.json").write_text(json.dumps(state))
        cleanup_stale(tmp_path, term_timeout=0.5)
        assert process_starttime(holder.pid) is None, "the recorded holder is killed"
        assert bystander.poll() is None, "a process outside the lab survives the sweep"
        assert not tmp_path.exists()
    finally:
        for proc in (holder, bystander):
            proc.kill()
            proc.wait()
