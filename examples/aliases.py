"""Are two router interfaces aliases of one router? Ask ally (shared IP-ID counter).

scamperlab run topologies/aliases.yaml -- python3 examples/aliases.py {mux} 198.18.0.2 198.18.0.13

ally probes the two addresses alternately; a router that stamps its IP-IDs
from one counter answers with IDs in one increasing sequence, two routers
(or a router with a counter per interface) do not. Prints "aliases",
"not aliases" or "unknown" (an address did not answer).
"""

import sys

from scamper import ScamperCtrl


def main() -> None:
    mux, first, second = sys.argv[1], sys.argv[2], sys.argv[3]
    ctrl = ScamperCtrl(mux=mux)
    inst = ctrl.add_vps(ctrl.vps()[0])[0]
    result = ctrl.do_ally(
        first, second, method="icmp-echo", wait_probe=0.2, wait_timeout=2, inst=inst, sync=True
    )
    answered = set()
    for i in range(result.probe_count):
        probe = result.probe(i)
        if probe is not None and probe.reply_count > 0:
            answered.add(str(probe.probedef.dst))
    if result.has_aliases():
        verdict = "aliases"
    elif answered >= {first, second}:
        verdict = "not aliases"
    else:
        verdict = "unknown"
    print(f"{first} {second}: {verdict}")
    inst.done()


if __name__ == "__main__":
    main()
