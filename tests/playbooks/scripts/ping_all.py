"""Ping a target from every VP on the mux; print {vp: [replies, min rtt ms]} as JSON."""

import json
import sys

from scamperlab.scamper import ScamperCtrl

mux, target = sys.argv[1], sys.argv[2]
ctrl = ScamperCtrl(mux=mux)
insts = ctrl.add_vps(ctrl.vps())
for inst in insts:
    ctrl.do_ping(target, inst=inst, attempts=3)
results = {}
for ping in ctrl.responses(timeout=30):
    rtt = ping.min_rtt.total_seconds() * 1000 if ping.min_rtt is not None else None
    results[ping.inst.name] = [ping.nreplies, rtt, str(ping.dst)]
ctrl.done()
print(json.dumps(results))
