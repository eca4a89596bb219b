"""A lab of a few hundred VPs starts, serves every VP on the mux, and leaves nothing.

The 1,000-VP timings are a benchmark (``benchmarks/scale.py``); here the bounds
are loose enough for a machine shared with other test runs, and what is
asserted exactly is that every VP connected and that teardown left no
process, namespace, veth or file.
"""

from __future__ import annotations

import time
from pathlib import Path

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.generate import ring
from tests.integration.leftovers import processes_in, root_links
from tests.integration.test_lifecycle import snapshot

VPS = 200


def test_200_vps_start_connect_and_leave_nothing(state_dir: Path) -> None:
    before = root_links()
    lab = Lab(ring(VPS, 8, name="scale200"), state_dir=state_dir)
    start = time.monotonic()
    lab.start()
    up = time.monotonic() - start
    try:
        snap = snapshot(lab, before)
        assert len(snap.namespaces) == len(lab.plan.nodes) + 1
        # ~2 s on an idle 2-core machine: 60 s only catches a return to per-VP costs.
        assert up < 60, f"{VPS} VPs took {up:.1f} s to start"
        ctrl = ScamperCtrl(mux=str(lab.mux_path))
        try:
            vps = ctrl.vps()
            assert len(vps) == VPS
            assert {vp.name for vp in vps} == {vp.name for vp in lab.vps}
        finally:
            ctrl.done()
    finally:
        start = time.monotonic()
        lab.stop()
        down = time.monotonic() - start
    assert down < 30, f"teardown of {VPS} VPs took {down:.1f} s"
    snap.assert_gone()
    assert not processes_in(snap.namespaces)
