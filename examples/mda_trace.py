"""MDA traceroute (tracelb) across a load-balanced path: every link, every branch.

scamperlab run topologies/loadbalanced.yaml -- python3 examples/mda_trace.py {mux} 192.0.2.4

A Paris traceroute follows one flow, so it sees one path through a per-flow
load balancer; MDA varies the flow identifier until it is confident it has
seen every next hop, and reports the links between interfaces it found.
MDA's guarantee is statistical (a branch is missed with probability
1 - confidence); a fixed source port makes the flows, and so the paths
they hash onto, the same in every run: a result that can be compared.
Prints one "near -> far" line per link (with the number of hops when silent
hops lie between), then a summary.
"""

import sys

from scamper import ScamperCtrl


def main() -> None:
    mux, target = sys.argv[1], sys.argv[2]
    ctrl = ScamperCtrl(mux=mux)
    inst = ctrl.add_vps(ctrl.vps()[0])[0]
    trace = ctrl.do_tracelb(
        target,
        confidence=99,
        method="udp-dport",
        sport=40000,
        wait_probe=0.15,
        inst=inst,
        sync=True,
    )
    links = set()
    for node in trace.nodes():
        for link in node.links():
            if link.near is None or link.far is None:
                continue
            links.add((str(link.near.src), str(link.far.src), link.length))
    for near, far, length in sorted(links):
        gap = f" ({length} hops)" if length > 1 else ""
        print(f"{near} -> {far}{gap}")
    fanout: dict[str, int] = {}
    for near, _, _ in links:
        fanout[near] = fanout.get(near, 0) + 1
    print(f"{inst.name}: {len(links)} links to {target}, widest branching {max(fanout.values())}")
    inst.done()


if __name__ == "__main__":
    main()
