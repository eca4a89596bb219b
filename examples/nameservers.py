"""Find a zone's nameservers from a VP, resolve and ping them, closest first.

    scamperlab run topologies/ark-mini.yaml -- python3 examples/nameservers.py {mux} lab.example

Every DNS query goes to the VP's default resolver (no ``server=``): scamper
takes it from the VP's /etc/resolv.conf, as it would on an Ark node. The
NS query is synchronous; the A/AAAA queries for the nameservers and the
pings of their addresses are issued at once and collected with a timeout.

Debian's and Ubuntu's scamper, 20211212, only queries A, AAAA, MX and PTR
records; in a lab the NS query is then performed by the lab's stand-in,
from the VP. Where it is refused (stand-ins off, ``--no-standins``), the
module raises ScamperInstError and the script finds the NS set as a stub
resolver can:
the resolver's answer for the zone (type A) carries the zone's SOA, whose
MNAME is the primary nameserver; asked directly and non-recursively about
its own address, the primary lists the zone's NS records in the authority
section of its answer.
"""

import sys
from datetime import timedelta

from scamper import ScamperCtrl, ScamperInstError

TIMEOUT = timedelta(seconds=20)


def bare(name):
    return str(name).rstrip(".").lower()


def zone_nses(host, zone):
    """NS names of ``zone`` in a result's answer or authority section."""
    found = {bare(rr.ns) for rr in host.ans(["ns"]) if bare(rr.name) == zone}
    found |= {bare(rr.ns) for rr in host.nss(["ns"]) if bare(rr.name) == zone}
    return found


def find_nameservers(ctrl, inst, zone):
    try:
        host = ctrl.do_dns(zone, qtype="NS", inst=inst, sync=True)
        return zone_nses(host, zone)
    except ScamperInstError as exc:
        print(
            f"{inst.name} refused an NS query ({exc}); this scamper only queries A, AAAA,"
            " MX and PTR: asking the zone's primary nameserver instead",
            file=sys.stderr,
        )
    host = ctrl.do_dns(zone, qtype="A", inst=inst, sync=True)
    soas = [rr.soa for rr in host.nss(["soa"]) if rr.soa is not None and bare(rr.name) == zone]
    if not soas:
        print(f"{zone}: no SOA in the resolver's answer ({host.rcode or 'no answer'}); a zone?")
        sys.exit(1)
    primary = bare(soas[0].mname)
    addrs = ctrl.do_dns(primary, qtype="A", inst=inst, sync=True).ans_addrs()
    if not addrs:
        return {primary}
    auth = ctrl.do_dns(primary, qtype="A", server=addrs[0], rd=False, inst=inst, sync=True)
    return zone_nses(auth, zone) or {primary}


def main():
    mux, zone = sys.argv[1], bare(sys.argv[2])
    with ScamperCtrl(mux=mux) as ctrl:
        inst = ctrl.add_vps(ctrl.vps()[0])[0]
        names = sorted(find_nameservers(ctrl, inst, zone))
        if not names:
            print(f"{zone}: no nameservers found from {inst.name}")
            sys.exit(1)
        print(f"{zone}: {len(names)} nameservers from {inst.name}: {', '.join(names)}")

        for name in names:
            for qtype in ("A", "AAAA"):
                ctrl.do_dns(name, qtype=qtype, inst=inst)
        addresses = {}
        for host in ctrl.responses(timeout=TIMEOUT):
            for addr in host.ans_addrs():
                addresses[str(addr)] = bare(host.qname)

        for addr in addresses:
            ctrl.do_ping(addr, attempts=3, inst=inst)
        rtts = {}
        for ping in ctrl.responses(timeout=TIMEOUT):
            rtts[str(ping.dst)] = ping.min_rtt
        for exc in ctrl.exceptions():
            print(f"error: {exc}", file=sys.stderr)
        inst.done()

    def delay(addr):
        rtt = rtts.get(addr)
        return rtt.total_seconds() if rtt is not None else float("inf")

    for addr in sorted(addresses, key=lambda a: (delay(a), a)):
        rtt = rtts.get(addr)
        shown = f"{rtt.total_seconds() * 1000:9.3f} ms" if rtt is not None else "  no reply"
        print(f"{addresses[addr]:<24} {addr:<26} {shown}")
    if not addresses or any(rtts.get(a) is None for a in addresses):
        sys.exit(1)


if __name__ == "__main__":
    main()
