"""Send a UDP probe from every VP to an echo service and print who got an answer.

scamperlab run topologies/ark-mini.yaml -- python3 examples/udp_probe.py {mux} 192.0.2.7 7

A VP whose scamper knows the ``udpprobe`` command (20240117 or newer) sends
the probes itself; on an older one, as Debian's 20211212, the lab's stand-in
sends them from the VP's namespace and address and answers with the same
record (docs/standins.md). If every VP refuses (a lab with stand-ins off),
the script says so and exits with status 2.
"""

import sys
from datetime import timedelta

from scamper import ScamperCtrl


def main() -> None:
    mux, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
    ctrl = ScamperCtrl(mux=mux)
    ctrl.add_vps(ctrl.vps())
    for inst in ctrl.instances():
        ctrl.do_udpprobe(dst, port, b"hello from a VP", attempts=2, inst=inst)
    answered = 0
    for probe in ctrl.responses(timeout=timedelta(seconds=20)):
        replies = list(probe.replies())
        answered += bool(replies)
        payload = replies[0].payload if replies else None
        print(f"{probe.inst.name}: {len(replies)} replies {payload!r}")
    refused = sorted(str(exc) for exc in ctrl.exceptions())
    if refused:
        print(f"refused by {len(refused)} VPs, e.g. {refused[0]}")
    ctrl.done()
    if refused and not answered:
        sys.exit(2)


if __name__ == "__main__":
    main()
