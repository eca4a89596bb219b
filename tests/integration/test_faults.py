"""Faults a test injects into a running lab, and undoing them (Lab.kill_vp, cut_link, ...)."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from scamperlab.emulation.delay import fallback_problem
from scamperlab.errors import LabStateError
from scamperlab.lab import Lab
from tests.integration.conftest import TINY
from tests.integration.leftovers import root_links
from tests.integration.test_lifecycle import snapshot


def qdisc(lab: Lab, node: str, dev: str) -> str:
    return lab.run_in(node, ["tc", "qdisc", "show", "dev", dev, "root"]).stdout


def reaches_target(lab: Lab, vp: str, wait: int = 3) -> bool:
    """Whether any of three echoes gets a reply: a path exists. One echo is not a path
    test on a busy machine (the first after a restore also waits for ARP)."""
    argv = ["ping", "-c", "3", "-i", "0.5", "-W", str(wait), "192.0.2.1"]
    return lab.run_in(vp, argv).returncode == 0


def test_link_changes_while_cut_apply_on_restore_and_reset_undoes_all(state_dir: Path) -> None:
    before = root_links()
    with Lab.from_file(TINY, name="faults", state_dir=state_dir) as lab:
        snap = snapshot(lab, before)
        core_edge = lab.link("edge", "core")
        assert {core_edge.a.node, core_edge.b.node} == {"core", "edge"}
        with pytest.raises(KeyError, match="no link between 'core' and 'target'"):
            lab.link("core", "target")

        lab.cut_link("core", "edge")
        assert "blackhole" in qdisc(lab, "core", core_edge.a.name)
        assert not reaches_target(lab, "vp1.test", wait=1) and reaches_target(lab, "vp2.test")
        # Changed while cut: reported now, applied when the cut is restored.
        change = lab.set_link("core", "edge", bandwidth="3Mbit", loss=1)
        assert change.params.bandwidth == 3 and change.params.delay == 10  # kept from the file
        assert "blackhole" in qdisc(lab, "edge", core_edge.b.name)
        lab.restore_link("core", "edge")
        assert "tbf" in qdisc(lab, "edge", core_edge.b.name)
        assert reaches_target(lab, "vp1.test")
        if lab.net and not lab.net.netem and fallback_problem() is not None:
            assert change.unapplied == ("delay", "loss")
            assert change.reason is not None and change.reason in lab.warnings
        else:  # netem, or the userspace fallback, applies the change
            assert change.applied
            assert lab.net.mechanisms[core_edge.index] in ("netem", "nfqueue")

        lab.kill_vp("vp3.test")
        row = next(r for r in lab.vp_status() if r["name"] == "vp3.test")
        assert row["state"] == "stopped" and "signal 9" in row["problem"]
        lab.reset_faults()
        assert "tbf" not in qdisc(lab, "edge", core_edge.b.name)
        row = next(r for r in lab.vp_status() if r["name"] == "vp3.test")
        assert row["state"] == "up" and row["restarts"] == 1
        assert [e.kind for e in lab.events if e.vp == "vp3.test"] == ["vp-died", "vp-restarted"]
        snap.processes.update({p.pid: p.starttime for p in lab.state.processes.values()})
    snap.assert_gone()


def test_reset_waits_for_a_vp_killed_from_outside(state_dir: Path) -> None:
    with Lab.from_file(TINY, name="outside", state_dir=state_dir) as lab:
        pid = lab.vp_pid("vp2.test")
        assert pid is not None
        os.kill(pid, signal.SIGKILL)  # not through kill_vp: the lab restarts it by itself
        lab.reset_faults()
        assert {r["name"]: r["state"] for r in lab.vp_status()}["vp2.test"] == "up"
        with pytest.raises(KeyError, match="no VP named 'core'"):
            lab.kill_vp("core")
        lab.kill_vp("vp1.test")
        with pytest.raises(LabStateError, match="not back on sc_remoted"):
            lab.restart_vp("vp1.test", timeout=0)
