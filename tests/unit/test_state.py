"""Lab state: ownership by lock, PID+start-time identity, stale clean-up."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from scamperlab.errors import LabStateError
from scamperlab.lab.state import (
    LabState,
    cleanup_stale,
    is_running,
    kill_process,
    process_starttime,
)


def test_kill_process_only_kills_the_process_it_was_given() -> None:
    proc = subprocess.Popen(["sleep", "30"])
    start = process_starttime(proc.pid)
    assert start is not None
    assert not kill_process(proc.pid, start + 1)  # another process under a reused PID
    assert proc.poll() is None
    assert kill_process(proc.pid, start)
    assert process_starttime(proc.pid) is None


def test_owner_holds_the_lab_and_a_dead_owner_leaves_stale_state(tmp_path: Path) -> None:
    state = LabState("x", tmp_path)
    assert state.acquire() == []
    assert is_running("x", tmp_path)
    with pytest.raises(LabStateError, match="already running"):
        LabState("x", tmp_path).acquire()
    sleeper = subprocess.Popen(["sleep", "30"])
    state.track("scamper", "vp1", sleeper.pid)
    # The owner "dies": its lock goes, its state file stays.
    assert state._lock_fd is not None
    import os

    os.close(state._lock_fd)
    state._lock_fd = None
    assert not is_running("x", tmp_path)
    saved = json.loads((tmp_path / "x" / "state.json").read_text())
    assert saved["processes"][0]["pid"] == sleeper.pid

    again = LabState("x", tmp_path)
    cleaned = again.acquire()
    assert any("killed leftover scamper vp1" in line for line in cleaned)
    assert process_starttime(sleeper.pid) is None
    again.release()
    assert not (tmp_path / "x").exists()


def test_release_by_a_non_owner_keeps_the_owners_directory(tmp_path: Path) -> None:
    owner = LabState("y", tmp_path)
    owner.acquire()
    LabState("y", tmp_path).release()
    assert (tmp_path / "y").exists()
    owner.release()


def test_cleanup_of_garbage_state(tmp_path: Path) -> None:
    (tmp_path / "z").mkdir()
    (tmp_path / "z" / "state.json").write_text("{not json")
    assert "removed stale state" in cleanup_stale(tmp_path / "z")[-1]
    assert not (tmp_path / "z").exists()


@pytest.mark.parametrize("name", ["../x", "..", ".hidden", "a/b", "", "x" * 64])
def test_lab_names_cannot_escape_the_state_directory(tmp_path: Path, name: str) -> None:
    with pytest.raises(LabStateError, match="invalid lab name"):
        LabState(name, tmp_path)
