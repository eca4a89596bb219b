"""Recovery after a crash: SIGKILL a running lab's owner, then time ``down``.

    sudo .venv/bin/python -m benchmarks.recovery [--sizes 14,100,1000]

For each size, a ring lab of N VPs (``benchmarks.scale``'s topology) is
started by a child process, which is then killed with SIGKILL: its scamper,
sc_remoted, servers and namespace holders keep running, as after an OOM kill.
``scamperlab.lab.lifecycle.down`` (what ``scamperlab down`` runs) then cleans
up from the lab's record. Reported: how long ``down`` took, what was left
afterwards (tracked processes alive, processes in the lab's namespaces, the
state directory), and the load average beside each figure. Writes the section
between the ``recovery`` markers of ``docs/benchmarks.md`` unless ``--no-doc``.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.doc import markers, write_section
from benchmarks.scale import loadavg
from scamperlab.emulation.netns import processes_in
from scamperlab.lab.lifecycle import down
from scamperlab.lab.state import process_starttime

ROOT = Path(__file__).resolve().parent.parent
START, END = markers("recovery")

OWNER = """
import sys, time
from scamperlab.lab import Lab
from scamperlab.topology.generate import ring
lab = Lab(ring(int(sys.argv[1]), 8, name=sys.argv[2]), state_dir=sys.argv[3])
lab.start()
print("up", flush=True)
time.sleep(3600)
"""


def ticks() -> int:
    """Now, as /proc/PID/stat counts a process's start (clock ticks since boot)."""
    return int(time.clock_gettime(time.CLOCK_BOOTTIME) * os.sysconf("SC_CLK_TCK")) + 1


def crash_and_recover(n: int, state_root: str) -> dict[str, Any]:
    name = f"crash{n}"
    owner = subprocess.Popen(
        [sys.executable, "-c", OWNER, str(n), name, state_root],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert owner.stdout is not None
    if owner.stdout.readline().strip() != "up":
        owner.kill()
        raise SystemExit(f"the {n}-VP lab did not come up")
    state = json.loads((Path(state_root) / name / "state.json").read_text())
    tracked = {p["pid"]: p["starttime"] for p in state["processes"]}
    holders = [p["pid"] for p in state["processes"] if p["kind"] == "shell"]
    namespaces = {os.stat(f"/proc/{pid}/ns/net").st_ino for pid in holders}
    taken = ticks()
    owner.send_signal(signal.SIGKILL)
    owner.wait()
    load = loadavg()
    start = time.monotonic()
    cleaned = down(name, state_dir=state_root)
    took = time.monotonic() - start
    return {
        "vps": n,
        "processes": len(tracked),
        "down_s": took,
        "load": load,
        "cleaned_lines": len(cleaned),
        # process_starttime counts zombies as gone: they have exited.
        "tracked_alive": sum(1 for pid, st in tracked.items() if process_starttime(pid) == st),
        # Started before the crash: not a process of a namespace made since (inode reuse).
        "left_in_namespaces": sum(
            1 for pid in processes_in(namespaces) if (process_starttime(pid) or taken + 1) <= taken
        ),
        "state_left": (Path(state_root) / name).exists(),
        "owner_gone": process_starttime(owner.pid) is None,
    }


def markdown(rows: list[dict[str, Any]]) -> str:
    lines = [
        START,
        "",
        "`python -m benchmarks.recovery`: a ring lab's owner is killed with SIGKILL,",
        "then `down` (the same call as `scamperlab down`) cleans up from the lab's record.",
        "",
        "| VPs | processes recorded | `down` took | left afterwards | load average |",
        "| ---: | ---: | ---: | --- | --- |",
    ]
    for r in rows:
        left = r["tracked_alive"] + r["left_in_namespaces"] + int(r["state_left"])
        what = "nothing" if left == 0 else f"{left} item(s)"
        lines.append(
            f"| {r['vps']:,} | {r['processes']:,} | {r['down_s']:.2f} s | {what} | {r['load']} |"
        )
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="14,100,1000")
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    rows = []
    with tempfile.TemporaryDirectory(prefix="sl-rec-", dir="/run") as state_root:
        for n in (int(s) for s in args.sizes.split(",")):
            row = crash_and_recover(n, state_root)
            print(json.dumps(row), flush=True)
            rows.append(row)
    out = ROOT / "benchmarks" / "results" / "recovery.json"
    out.write_text(json.dumps(rows, indent=1))
    section = markdown(rows)
    print(section)
    if not args.no_doc:
        write_section("recovery", "Recovery after a crash", section)


if __name__ == "__main__":
    main()
