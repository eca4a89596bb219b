"""A call that needs a running lab, on a lab that is not running, raises LabStateError.

Not an ``assert``, which ``python -O`` removes (the user would then get an
``AttributeError`` on ``None``): checked here in this interpreter and under
``-O``. No root needed: nothing is started.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from scamperlab.errors import LabStateError, ScamperlabError
from scamperlab.lab import Lab

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "integration" / "topologies" / "tiny.yaml"

CALLS: dict[str, Callable[[Lab], Any]] = {
    "kill_vp": lambda lab: lab.kill_vp("vp1.test"),
    "restart_vp": lambda lab: lab.restart_vp("vp1.test"),
    "run_in": lambda lab: lab.run_in("vp1.test", ["true"]),
    "vp_pid": lambda lab: lab.vp_pid("vp1.test"),
    "cut_link": lambda lab: lab.cut_link("core", "edge"),
    "restore_link": lambda lab: lab.restore_link("core", "edge"),
    "set_link": lambda lab: lab.set_link("core", "edge", delay="5ms"),
    "net": lambda lab: lab.net,
    "services": lambda lab: lab.services,
    "install": lambda lab: lab.install,
    "started_at": lambda lab: lab.started_at,
    "present_vps": lambda lab: lab.present_vps,
}


@pytest.fixture
def lab(tmp_path: Path) -> Lab:
    return Lab.from_file(TINY, name="idle", state_dir=tmp_path)


@pytest.mark.parametrize("call", sorted(CALLS))
def test_a_call_on_a_lab_that_is_not_running_says_so(lab: Lab, call: str) -> None:
    with pytest.raises(LabStateError, match="lab idle is not running") as info:
        CALLS[call](lab)
    assert isinstance(info.value, ScamperlabError)  # the CLI prints it, no traceback


def test_what_needs_no_running_lab_still_works(lab: Lab, tmp_path: Path) -> None:
    assert not lab.running
    assert [vp.name for vp in lab.vps] == ["vp1.test", "vp2.test", "vp3.test"]
    assert {row["state"] for row in lab.vp_status()} == {"stopped"}
    assert lab.ssh_endpoint is None
    lab.reset_faults()  # no faults on a lab that is not running: nothing to undo
    lab.stop()  # stopping a lab that never started is harmless
    assert not (tmp_path / "idle").exists()


def test_a_stopped_lab_is_not_running_either(lab: Lab) -> None:
    lab.stop()
    with pytest.raises(LabStateError, match="not running"):
        lab.kill_vp("vp1.test")


def test_under_python_O_too(tmp_path: Path) -> None:
    """``python -O`` strips asserts: the check must not be one."""
    script = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
from scamperlab.errors import LabStateError
from scamperlab.lab import Lab
from tests.unit.test_lab_not_running import CALLS
assert False, "this assert must vanish under -O"
lab = Lab.from_file({str(TINY)!r}, name="idle", state_dir={str(tmp_path)!r})
for name, call in sorted(CALLS.items()):
    try:
        call(lab)
    except LabStateError as exc:
        print(name, "LabStateError", exc)
    else:
        print(name, "no error")
"""
    done = subprocess.run(
        [sys.executable, "-O", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split()[0] for line in lines] == sorted(CALLS)
    for line in lines:
        assert " LabStateError lab idle is not running" in line, line
