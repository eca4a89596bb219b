"""Print the mux's VP list as JSON (run on the controller, by a member of the mux group)."""

import json
import sys

from scamperlab.scamper import ScamperCtrl

ctrl = ScamperCtrl(mux=sys.argv[1])
print(
    json.dumps(
        [
            {
                "name": vp.name,
                "ipv4": vp.ipv4,
                "cc": vp.cc,
                "st": vp.st,
                "place": vp.place,
                "loc": list(vp.loc) if vp.loc else None,
                "asn4": vp.asn4,
                "iata": vp.iata,
                "tags": sorted(vp.tags),
            }
            for vp in ctrl.vps()
        ]
    )
)
