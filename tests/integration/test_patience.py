"""A busy machine restarts no healthy VP: missing is checked in the kernel, not guessed."""

from __future__ import annotations

import os
import time
from pathlib import Path

from scamperlab.lab import Lab
from scamperlab.processes.liveness import CONNECT_GRACE, connection
from tests.integration.conftest import ARK_MINI
from tests.integration.muxclient import RawMux, parse_channel_text
from tests.load import cpu_hogs

# Three busy processes per core: the lab's own processes get about a quarter of a core each.
HOGS_PER_CORE = 3


def test_with_every_core_busy_no_healthy_vp_is_restarted(state_dir: Path) -> None:
    hogs = cpu_hogs(HOGS_PER_CORE * (os.cpu_count() or 1))
    with hogs, Lab.from_file(ARK_MINI, name="busy", state_dir=state_dir) as lab:
        pids = {vp.name: lab.vp_pid(vp.name) for vp in lab.vps}
        # Every VP measures while the cores stay busy, for longer than the grace.
        mux = RawMux(str(lab.mux_path), timeout=60)
        try:
            vps = list(mux.read_until_go().values())
            target = lab.targets[0].ipv4
            for chan, vp in enumerate(vps, start=1):
                mux.open(vp.id, chan)
                mux.send(chan, f"ping -c 4 -i 1 {target}\ndone\n")
            chans = set(range(1, len(vps) + 1))
            mux.pump_until(lambda: chans <= mux.closed, timeout=120)
        finally:
            mux.close()
        time.sleep(CONNECT_GRACE)
        events = [f"{e.kind} {e.vp}: {e.message}" for e in lab.events]
        assert not [e for e in events if e.startswith(("vp-missing", "vp-restarted"))], events
        assert {vp.name: lab.vp_pid(vp.name) for vp in lab.vps} == pids
        port = lab.topology.controller.port
        assert {n: connection(pid, port) for n, pid in pids.items() if pid is not None} == {
            n: "established" for n in pids
        }
        for chan in chans:
            _lines, records = parse_channel_text(mux.text[chan])
            assert len(records) == 4, (chan, mux.text[chan][-300:])  # list, start, ping, stop
