"""A lab of 1,000 VPs starts, serves every VP on the mux, measures, and leaves nothing.

The timings are a benchmark (``benchmarks/scale.py``: 1,000 VPs up in about
15 s, down in under 1 s, on a 2-core machine); here they are held to the
issue's targets (60 s and 10 s), which leaves room for a busier machine. What
is asserted exactly is that every VP connected, that every VP can measure
through the mux, and that teardown left no process, namespace, veth or file.
"""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

from scamperlab.lab import Lab
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.generate import ring
from tests.integration.leftovers import processes_in, root_links
from tests.integration.test_lifecycle import snapshot

VPS = 1000


def test_1000_vps_start_connect_measure_and_leave_nothing(state_dir: Path) -> None:
    before = root_links()
    lab = Lab(ring(VPS, 8, name=f"scale{VPS}"), state_dir=state_dir)
    start = time.monotonic()
    lab.start()
    up = time.monotonic() - start
    try:
        snap = snapshot(lab, before)
        assert len(snap.namespaces) == len(lab.plan.nodes) + 1
        assert up < 60, f"{VPS} VPs took {up:.1f} s to start"
        ctrl = ScamperCtrl(mux=str(lab.mux_path))
        try:
            vps = ctrl.vps()
            assert len(vps) == VPS
            assert {vp.name for vp in vps} == {vp.name for vp in lab.vps}
            targets = [t.ipv4 for t in lab.targets]
            for i, inst in enumerate(ctrl.add_vps(vps)):
                ctrl.do_ping(targets[i % len(targets)], attempts=1, inst=inst)
            pings = list(ctrl.responses(timeout=timedelta(seconds=120)))
            assert sum(1 for p in pings if p.min_rtt is not None) == VPS
        finally:
            ctrl.done()
    finally:
        start = time.monotonic()
        lab.stop()
        down = time.monotonic() - start
    assert down < 10, f"teardown of {VPS} VPs took {down:.1f} s"
    snap.assert_gone()
    assert not processes_in(snap.namespaces)
