"""List the vantage points in one country (ISO 3166 code, any case).

scamperlab run topologies/ark-mini.yaml -- python3 examples/vps_in_country.py {mux} US
"""

import sys

from scamper import ScamperCtrl


def main() -> None:
    mux, cc = sys.argv[1], sys.argv[2].upper()
    ctrl = ScamperCtrl(mux=mux)
    vps = sorted((vp for vp in ctrl.vps() if vp.cc == cc), key=lambda vp: vp.name or "")
    for vp in vps:
        print(f"{vp.name} {vp.cc} {vp.place or '-'}")
    print(f"{len(vps)} VPs in {cc}")


if __name__ == "__main__":
    main()
