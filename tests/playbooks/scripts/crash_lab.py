"""SIGKILL a lab's owner and every process it started, all at once: the lab crashes.

Run as root on the lab's host with its scamperlab: ``python - LAB``. Each process
is taken from the lab's state file by PID and checked by its start time, as
scamperlab itself does. Prints how many were killed.
"""

import os
import signal
import sys

from scamperlab.lab.state import process_starttime, read_state

state = read_state(sys.argv[1]) or {}
victims = [(state["owner_pid"], state.get("owner_starttime"))]
victims += [(p["pid"], p.get("starttime")) for p in state.get("processes", [])]
killed = 0
for pid, start in victims:
    if start is not None and process_starttime(int(pid)) == start:
        os.kill(int(pid), signal.SIGKILL)
        killed += 1
print(killed)
