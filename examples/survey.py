"""Ping several targets and trace to one of them from every VP: an audit's sample script.

    scamperlab audit topologies/ark-mini.yaml --policy examples/site-policy.yaml \
        -- python3 examples/survey.py {mux} 203.0.113.80 198.51.100.53

Every VP pings each target three times and traces to the first one. A
site host can run it under ``scamperlab audit`` to see exactly what it
sends (see docs/audit.md); ``scamperlab run`` works the same way.
"""

import sys
from datetime import timedelta

from scamper import ScamperCtrl, ScamperPing, ScamperTrace


def main() -> None:
    mux, targets = sys.argv[1], sys.argv[2:]
    pings = traces = 0
    with ScamperCtrl(mux=mux) as ctrl:
        ctrl.add_vps(ctrl.vps())
        for inst in ctrl.instances():
            for target in targets:
                ctrl.do_ping(target, attempts=3, inst=inst)
            ctrl.do_trace(targets[0], inst=inst)
        for result in ctrl.responses(timeout=timedelta(seconds=30)):
            if isinstance(result, ScamperPing):
                pings += result.probe_count
            elif isinstance(result, ScamperTrace):
                traces += result.probe_count
        for exc in ctrl.exceptions():
            print(f"error: {exc}", file=sys.stderr)
        ctrl.done()
    print(f"{pings} ping probes, {traces} trace probes")


if __name__ == "__main__":
    main()
