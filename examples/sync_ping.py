"""Ping a target from the mux's first VP, synchronously.

scamperlab run topologies/ark-mini.yaml -- python3 examples/sync_ping.py {mux} 203.0.113.80
"""

import sys

from scamper import ScamperCtrl


def main() -> None:
    mux, target = sys.argv[1], sys.argv[2]
    ctrl = ScamperCtrl(mux=mux)
    inst = ctrl.add_vps(ctrl.vps()[0])[0]
    ping = ctrl.do_ping(target, attempts=3, inst=inst, sync=True)
    if ping.min_rtt is None:
        print(f"{inst.name}: no reply from {target}")
        sys.exit(1)
    rtt = ping.min_rtt.total_seconds() * 1000
    print(f"{inst.name}: min_rtt {rtt:.3f} ms to {ping.dst} ({ping.nreplies}/{ping.probe_count})")
    inst.done()


if __name__ == "__main__":
    main()
