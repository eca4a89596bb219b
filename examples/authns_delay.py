"""How far is each of a zone's authoritative nameservers from a VP, by DNS itself?

    scamperlab run topologies/ark-mini.yaml -- python3 examples/authns_delay.py {mux} lab.example

The seed's fifth example (``authns-delay.py``): one synchronous NS query to
the VP's default resolver, the A and AAAA addresses of every nameserver,
then the zone's SOA asked of each address directly (no recursion), whose
RTT is the delay to that nameserver. On the lab's Debian scamper
(20211212), which has no NS or SOA queries and no IPv6 ``server=``, the
lab's DNS stand-in performs those from the VP (``scamperlab status`` says
so); the script is the same on a modern scamper.
"""

import sys
from datetime import timedelta

from scamper import ScamperCtrl

TIMEOUT = timedelta(seconds=20)
WAIT = timedelta(seconds=1)


def bare(name):
    return str(name).rstrip(".").lower()


def main():
    mux, zone = sys.argv[1], bare(sys.argv[2])
    with ScamperCtrl(mux=mux) as ctrl:
        inst = ctrl.add_vps(ctrl.vps()[0])[0]
        ns = ctrl.do_dns(zone, qtype="NS", wait_timeout=WAIT, inst=inst, sync=True)
        names = sorted({bare(n) for n in ns.ans_nses()})
        if not names:
            print(f"{zone}: no nameservers from {inst.name} ({ns.rcode or 'no answer'})")
            sys.exit(1)
        print(f"{zone}: {len(names)} nameservers from {inst.name}: {', '.join(names)}")

        for name in names:
            for qtype in ("A", "AAAA"):
                ctrl.do_dns(name, qtype=qtype, wait_timeout=WAIT, inst=inst)
        addresses = {}
        for host in ctrl.responses(timeout=TIMEOUT):
            for addr in host.ans_addrs():
                addresses[str(addr)] = bare(host.qname)

        for addr in addresses:
            ctrl.do_dns(zone, qtype="SOA", server=addr, rd=False, wait_timeout=WAIT, inst=inst)
        rtts = {}
        for host in ctrl.responses(timeout=TIMEOUT):
            if host.rcode == "NoError" and host.ans(["soa"]):
                rtts[str(host.dst)] = host.rtt
        for exc in ctrl.exceptions():
            print(f"error: {exc}", file=sys.stderr)
        inst.done()

    for addr in sorted(addresses, key=lambda a: (addresses[a], ":" in a)):
        rtt = rtts.get(addr)
        shown = f"{rtt.total_seconds() * 1000:9.3f} ms" if rtt is not None else "  no answer"
        print(f"{addresses[addr]:<20} {addr:<20} {shown}")
    if not addresses or any(rtts.get(a) is None for a in addresses):
        sys.exit(1)


if __name__ == "__main__":
    main()
