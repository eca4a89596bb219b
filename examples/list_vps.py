"""List the vantage points a mux offers, with their metadata.

    scamperlab run topologies/ark-mini.yaml -- python3 examples/list_vps.py {mux}

On Ark the mux is at /run/ark/mux.
"""

import sys

from scamper import ScamperCtrl


def main() -> None:
    ctrl = ScamperCtrl(mux=sys.argv[1])
    vps = sorted(ctrl.vps(), key=lambda vp: vp.name or "")
    print(f"{'name':<20} {'cc':<3} {'place':<12} {'loc':<15} {'asn4':<6} tags")
    for vp in vps:
        loc = f"{vp.loc[0]:.2f},{vp.loc[1]:.2f}" if vp.loc else "-"
        tags = ",".join(sorted(vp.tags)) or "-"
        asn = vp.asn4 if vp.asn4 is not None else "-"
        print(f"{vp.name:<20} {vp.cc or '-':<3} {vp.place or '-':<12} {loc:<15} {asn!s:<6} {tags}")
    print(f"{len(vps)} VPs")


if __name__ == "__main__":
    main()
