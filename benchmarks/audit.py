"""What capturing for an audit costs a measurement run at about 1,000 packets/s.

    sudo .venv/bin/python -m benchmarks.audit [--vps 13] [--tasks 8] [--seconds 10]
                                              [--repeat 3] [--scapy]

One lab (a ring of 8 routers, ``--vps`` VPs at ``-p 1000``); the workload is
``--tasks`` concurrent ``ping -i 0.1`` tasks of SECONDS x 10 probes from every
VP through the mux: VPS x TASKS x 10 probes per second (1,040 by default)
for SECONDS seconds. (Debian's scamper 20211212 runs at most 8 tasks at once
per VP over its control socket and pings at most every 0.1 s, hence the
shape.) Each repeat runs it, in alternating order:

- **plain**: the workload alone;
- **tcpdump**: the audit's capture (``scamperlab.audit.Capture``) started
  before and stopped after the workload;
- **scapy** (with ``--scapy``): the alternative design, one Python process
  per VP running scapy's ``AsyncSniffer`` and writing a pcap.

It prints the median wall time of each, the overhead against plain, the
CPU seconds the capture processes used, the packets captured, the time the
scapy analysis of the tcpdump captures takes (not part of the run), and
``/proc/loadavg`` before and after: the machine is shared, so read the
numbers beside the load.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from scamperlab.audit.capture import Capture
from scamperlab.audit.session import traffic
from scamperlab.lab import Lab
from scamperlab.lab.state import kill_process, process_starttime
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.generate import ring
from scamperlab.topology.model import Defaults

TICK = os.sysconf("SC_CLK_TCK")

SNIFFER = """
import signal, sys, threading
from scapy.sendrecv import AsyncSniffer
from scapy.utils import PcapWriter
writer = PcapWriter(sys.argv[2], linktype=1, sync=True)
sniffer = AsyncSniffer(iface=sys.argv[1], prn=writer.write, store=False)
sniffer.start()
done = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: done.set())
while not sniffer.running:
    pass
print("listening on", sys.argv[1], file=sys.stderr, flush=True)
done.wait()
sniffer.stop()
writer.close()
"""


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def workload(lab: Lab, tasks: int, seconds: int) -> int:
    """Every VP runs ``tasks`` pings of 10 probes/s for ``seconds`` s; the number of results."""
    targets = [t.ipv4 for t in lab.targets]
    ctrl = ScamperCtrl(mux=str(lab.mux_path))
    try:
        insts = ctrl.add_vps(ctrl.vps())
        for inst in insts:
            for i in range(tasks):
                ctrl.do_ping(
                    targets[i % len(targets)],
                    attempts=seconds * 10,
                    wait_probe=timedelta(seconds=0.1),
                    inst=inst,
                )
        results = len(list(ctrl.responses(timeout=timedelta(seconds=seconds + 60))))
        ctrl.done()
    finally:
        for inst in ctrl.instances():
            ctrl.remove(inst)
        for mux in ctrl._muxes:
            mux._transport.close()
    return results


class ScapySniffers:
    """The alternative to tcpdump: scapy's AsyncSniffer in one Python per VP."""

    def __init__(self, lab: Lab, directory: Path) -> None:
        self.lab, self.directory = lab, directory
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        assert self.lab.net is not None
        self.directory.mkdir(parents=True, exist_ok=True)
        for vp in self.lab.vps:
            log = open(self.directory / f"{vp.name}.log", "wb")  # noqa: SIM115
            argv = [sys.executable, "-c", SNIFFER, "eth0", str(self.directory / f"{vp.name}.pcap")]
            proc = self.lab.net.popen(vp.name, argv, stdout=log, stderr=log)
            log.close()
            self.lab.state.track("scapy-sniffer", vp.name, proc.pid)
            self.procs.append(proc)
        deadline = time.monotonic() + 60
        for vp in self.lab.vps:
            while b"listening" not in (self.directory / f"{vp.name}.log").read_bytes():
                if time.monotonic() > deadline:
                    raise RuntimeError(f"scapy sniffer on {vp.name} never started")
                time.sleep(0.01)

    def cpu(self) -> float:
        return sum(cpu_seconds(p.pid) for p in self.procs)

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                kill_process(proc.pid, process_starttime(proc.pid))
                proc.wait()
            self.lab.state.untrack(proc.pid)


def run_once(lab: Lab, mode: str, args: argparse.Namespace, work: Path) -> dict[str, float]:
    directory = work / f"{mode}-{time.monotonic_ns()}"
    start = time.monotonic()
    cpu = 0.0
    captured = 0
    if mode == "plain":
        workload(lab, args.tasks, args.seconds)
    elif mode == "tcpdump":
        cap = Capture(lab, directory)
        cap.start()
        try:
            workload(lab, args.tasks, args.seconds)
            cpu = sum(cpu_seconds(pid) for pid in cap.pids)
        finally:
            cap.stop()
    else:
        sniffers = ScapySniffers(lab, directory)
        sniffers.start()
        try:
            workload(lab, args.tasks, args.seconds)
            cpu = sniffers.cpu()
        finally:
            sniffers.stop()
    wall = time.monotonic() - start
    analysis = 0.0
    peak = 0
    if mode == "tcpdump":
        t0 = time.monotonic()
        series: list[list[int]] = []
        assert cap.started is not None and cap.stopped is not None
        for name, info in cap.info.items():
            vp = traffic(info, cap.pcaps[name], cap.started, cap.stopped - cap.started)
            captured += len(vp.probes)
            series.append(vp.series)
        analysis = time.monotonic() - t0
        # The lab-wide rate: every VP's packets in each 1-s window, added up.
        peak = max(map(sum, zip(*series, strict=False)), default=0)
    return {"wall": wall, "cpu": cpu, "captured": captured, "analysis": analysis, "peak": peak}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vps", type=int, default=13)
    parser.add_argument("--tasks", type=int, default=8, help="concurrent pings per VP")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--scapy", action="store_true", help="also measure a scapy sniffer")
    args = parser.parse_args()
    modes = ["plain", "tcpdump"] + (["scapy"] if args.scapy else [])
    topo = ring(args.vps, 8, name="benchaudit")
    topo = topo.model_copy(update={"defaults": Defaults(rate=1000)})
    rate = args.vps * args.tasks * 10
    print(f"load before: {loadavg()}", file=sys.stderr)
    results: dict[str, list[dict[str, float]]] = {m: [] for m in modes}
    with (
        tempfile.TemporaryDirectory(prefix="sla-", dir="/run") as state,
        tempfile.TemporaryDirectory(prefix="scamperlab-audit-bench-") as work,
        Lab(topo, state_dir=state) as lab,
    ):
        workload(lab, 1, 1)  # warm up: ARP/ND caches, the mux connections
        for i in range(args.repeat):
            order = modes if i % 2 == 0 else list(reversed(modes))
            for mode in order:
                r = run_once(lab, mode, args, Path(work))
                results[mode].append(r)
                print(
                    f"repeat {i + 1} {mode}: {r['wall']:.2f} s, capture CPU {r['cpu']:.2f} s,"
                    f" load {loadavg()}",
                    file=sys.stderr,
                    flush=True,
                )
    plain = statistics.median(r["wall"] for r in results["plain"])
    load = loadavg()
    print(
        f"\n{args.vps} VPs x {args.tasks} pings x 10/s = {rate} probes/s for {args.seconds} s,"
        f" median of {args.repeat}; load after: {load}\n"
    )
    print(
        "| capture | wall time (s) | overhead | capture CPU (s) | CPU per 1,000 packets (ms)"
        " | packets captured | peak pkt/s (lab) | scapy analysis (s) |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    expected = rate * args.seconds
    for mode in modes:
        rs = results[mode]
        wall = statistics.median(r["wall"] for r in rs)
        cpu = statistics.median(r["cpu"] for r in rs)
        per_k = cpu / expected * 1000 * 1000 if mode != "plain" else 0.0
        captured = statistics.median(r["captured"] for r in rs)
        analysis = statistics.median(r["analysis"] for r in rs)
        peak = statistics.median(r["peak"] for r in rs)
        print(
            f"| {mode if mode != 'plain' else 'none'} | {wall:.2f} |"
            f" {'-' if mode == 'plain' else f'{(wall / plain - 1) * 100:+.1f}%'} |"
            f" {cpu:.2f} | {'-' if mode == 'plain' else f'{per_k:.1f}'} |"
            f" {int(captured) if mode == 'tcpdump' else '-'} |"
            f" {int(peak) if mode == 'tcpdump' else '-'} |"
            f" {f'{analysis:.1f}' if mode == 'tcpdump' else '-'} |"
        )


if __name__ == "__main__":
    main()
