"""Ping a target from every VP at once; report the closest VP.

    scamperlab run topologies/ark-mini.yaml -- python3 examples/ping_all.py {mux} 203.0.113.80

This is the pattern of CAIDA's "shortest ping" example: issue everywhere,
then collect with a timeout so a VP that goes away cannot hang the script.
"""

import sys
from datetime import timedelta

from scamper import ScamperCtrl


def main() -> None:
    mux, target = sys.argv[1], sys.argv[2]
    rtts = {}
    with ScamperCtrl(mux=mux) as ctrl:
        ctrl.add_vps(ctrl.vps())
        for inst in ctrl.instances():
            ctrl.do_ping(target, attempts=3, inst=inst)
        for ping in ctrl.responses(timeout=timedelta(seconds=10)):
            rtts[ping.inst.name] = ping.min_rtt
        for exc in ctrl.exceptions():
            print(f"error: {exc}", file=sys.stderr)
        ctrl.done()

    for name in sorted(rtts):
        rtt = rtts[name]
        print(f"{name:<20} {rtt.total_seconds() * 1000:9.3f} ms" if rtt else f"{name:<20} no reply")
    answered = {name: rtt for name, rtt in rtts.items() if rtt is not None}
    if not answered:
        print(f"no VP got a reply from {target}")
        sys.exit(1)
    best = min(answered, key=lambda name: answered[name])
    print(f"closest: {best} {answered[best].total_seconds() * 1000:.3f} ms")


if __name__ == "__main__":
    main()
