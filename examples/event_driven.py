"""Ping a target once from every VP, driven by scamper's requests for work.

    scamperlab run topologies/ark-mini.yaml -- python3 examples/event_driven.py {mux} 203.0.113.80

morecb gives each VP its one ping when it asks for work, then tells it we
are done; eofcb counts the VPs that have finished; the main loop polls
until the controller is done.
"""

import sys

from scamper import ScamperCtrl


class State:
    def __init__(self, target):
        self.target = target
        self.issued = set()
        self.finished = 0


def more(ctrl, inst, state):
    if inst in state.issued:
        inst.done()
    else:
        state.issued.add(inst)
        ctrl.do_ping(state.target, attempts=2, inst=inst)


def eof(ctrl, inst, state):
    state.finished += 1


def main() -> None:
    mux, target = sys.argv[1], sys.argv[2]
    state = State(target)
    ctrl = ScamperCtrl(morecb=more, eofcb=eof, param=state, mux=mux)
    ctrl.add_vps(ctrl.vps())
    while not ctrl.is_done():
        try:
            ping = ctrl.poll(timeout=5)
        except Exception as exc:
            print(f"error: {exc}", file=sys.stderr)
            continue
        if ping is None:
            continue
        if ping.min_rtt is None:
            print(f"{ping.inst.name}: no reply")
        else:
            print(f"{ping.inst.name}: {ping.min_rtt.total_seconds() * 1000:.3f} ms")
    print(f"{state.finished} VPs finished")


if __name__ == "__main__":
    main()
