"""Lab start-up time and memory vs number of VPs, beside bare Mininet hosts.

    sudo .venv/bin/python -m benchmarks.startup [--sizes 10,50,100] [--repeat 1]

For each size, in one run: (a) a full scamperlab lab of a ring topology
(namespaces, links, routes, sc_remoted, one scamper per VP, every VP on the
mux) and (b) the same number of bare Mininet hosts and veth links with no
configuration at all, the floor any namespace-based lab pays. Prints a
Markdown table with the ratio, and per-VP memory (RSS of the VP's scamper
processes, and of everything the lab started).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from mininet.link import Link
from mininet.node import Host

from scamperlab.lab import Lab
from scamperlab.topology.generate import ring


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def children_rss(pid: int) -> int:
    """RSS of ``pid`` and its direct children (scamper's privilege-separation helper)."""
    total = rss_kib(pid)
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(f"/proc/{entry.name}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                total += rss_kib(int(entry.name))
    return total


def bare_mininet(vps: int, routers: int) -> float:
    start = time.monotonic()
    hosts = [Host(f"b{i}") for i in range(vps + 2 * routers + 1)]
    for i in range(vps + 2 * routers):
        Link(hosts[i], hosts[-1], intfName1="eth0", intfName2=f"e{i}")
    elapsed = time.monotonic() - start
    for host in hosts:
        host.terminate()
    return elapsed


def scamperlab_lab(vps: int, routers: int, state: str) -> tuple[float, float, float]:
    lab = Lab(ring(vps, routers, name=f"bench{vps}"), state_dir=state)
    start = time.monotonic()
    lab.start()
    elapsed = time.monotonic() - start
    try:
        scamper = [children_rss(p) for vp in lab.vps if (p := lab.vp_pid(vp.name))]
        everything = sum(rss_kib(p.pid) for p in lab.state.processes.values())
        return elapsed, sum(scamper) / len(scamper), everything / vps
    finally:
        lab.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10,50,100")
    parser.add_argument("--routers", type=int, default=8)
    args = parser.parse_args()
    print(
        "| VPs | scamperlab up (s) | bare Mininet hosts+links (s) | ratio |"
        " scamper RSS per VP (MiB) | lab RSS per VP (MiB) |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="slb-", dir="/run") as state:
        for size in (int(s) for s in args.sizes.split(",")):
            bare = bare_mininet(size, args.routers)
            full, scamper_kib, lab_kib = scamperlab_lab(size, args.routers, state)
            print(
                f"| {size} | {full:.2f} | {bare:.2f} | {full / bare:.1f} |"
                f" {scamper_kib / 1024:.1f} | {lab_kib / 1024:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
