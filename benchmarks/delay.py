"""Link delay accuracy, loss accuracy and CPU cost: netem (where the kernel has it) and
scamperlab's userspace NFQUEUE holder.

    sudo .venv/bin/python -m benchmarks.delay [--probes 200] [--delays 1,10,50,150]

Builds two routers joined by one link, a host behind each (the lab's own
emulation code: ``EmulatedNetwork``, its shaping and its delay daemon), and
for each configured one-way delay D of that link measures the RTT of
``--probes`` ICMP echoes from one host to the other (expected: 2 x D) while
1,000 packets/s of other traffic (echo requests every millisecond, and their
replies) cross the same link.
Then loss at 1, 5 and 20 % per direction, and the daemon's CPU time per
1,000 packets/s it handles. The holder runs twice: with real-time priority
(the default) and without, since that is the difference on a busy machine.
Prints Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.emulation.shaping import kernel_has_netem
from scamperlab.topology.model import LinkParams, Topology
from scamperlab.topology.plan import make_plan

PINGER = Path(__file__).with_name("pinger.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")


def two_routers() -> Topology:
    return Topology.model_validate(
        {
            "name": "delaybench",
            "routers": [{"name": "ra"}, {"name": "rb"}],
            "links": [{"ends": ["ra", "rb"], "delay": 1}],
            "vps": [{"name": "vp.bench", "uplink": {"router": "ra"}}],
            "targets": [{"name": "tgt", "uplink": {"router": "rb"}}],
        }
    )


def header(blank_line: bool, columns: str) -> None:
    """A Markdown table header; ``columns`` separated by ' | '."""
    count = len(columns.split(" | "))
    print(("\n" if blank_line else "") + f"| {columns} |\n|" + "---:|" * count)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class Bench:
    def __init__(self, net: EmulatedNetwork) -> None:
        self.net = net
        # VP to target, so the delayed link is crossed by forwarded packets, as in a
        # measurement (between direct neighbours, see docs/delay.md#limits).
        self.src = "vp.bench"
        self.dst = str(net.plan.nodes["tgt"].ipv4)

    def set(self, params: LinkParams) -> str:
        return self.net.set_link_params("ra", "rb", params)

    def background(self, seconds: float) -> subprocess.Popen[bytes]:
        """1,000 echo requests/s (and their replies) across the link.

        Not iputils ping: with replies outstanding it slows below the asked rate.
        """
        count = str(int(seconds * 1000))
        argv = [sys.executable, "-I", str(PINGER), self.dst, count, "0.001"]
        return subprocess.Popen(
            self.net.in_node(self.src, argv), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def rtts(self, count: int, interval: float) -> list[float]:
        argv = [sys.executable, "-I", str(PINGER), self.dst, str(count), str(interval)]
        done = subprocess.run(
            self.net.in_node(self.src, argv), capture_output=True, text=True, check=True
        )
        result: list[float] = json.loads(done.stdout)["rtts_ms"]
        return result

    def delay_row(self, delay: float, probes: int, loaded: bool) -> str:
        self.set(LinkParams(delay=delay))
        bg = self.background(probes * 0.01 + 2 * delay / 1e3 + 4) if loaded else None
        time.sleep(0.3)
        try:
            rtts = self.rtts(probes, 0.01)
        finally:
            if bg is not None:
                bg.kill()
                bg.wait()
        errors = [r - 2 * delay for r in rtts]
        return (
            f"| {delay:g} | {2 * delay:g} | {len(rtts)}/{probes} | {statistics.median(rtts):.3f}"
            f" | {statistics.median(errors):+.3f} | {percentile(errors, 0.99):+.3f}"
            f" | {max(errors):+.3f} | {min(errors):+.3f} |"
        )

    def loss_row(self, loss: float, count: int) -> str:
        self.set(LinkParams(delay=1, loss=loss))
        stats_before = self.net.delayd.stats() if self.net.delayd else {}
        argv = ["ping", "-q", "-n", "-i", "0.002", "-c", str(count), "-W", "1", self.dst]
        out = subprocess.run(
            self.net.in_node(self.src, argv), capture_output=True, text=True, check=False
        ).stdout
        received = int(out.split(" received")[0].rsplit(",", 1)[1])
        expected = 1 - (1 - loss / 100) ** 2
        per_dir = "-"
        if self.net.delayd is not None:
            after = self.net.delayd.stats()
            pkts = drops = 0
            for key in after:
                pkts += after[key]["packets"] - stats_before.get(key, {}).get("packets", 0)
                drops += after[key]["dropped"] - stats_before.get(key, {}).get("dropped", 0)
            per_dir = f"{100 * drops / max(1, pkts):.2f} % of {pkts}"
        return (
            f"| {loss:g} | {100 * expected:.2f} | {100 * (count - received) / count:.2f}"
            f" ({count - received}/{count}) | {per_dir} |"
        )

    def cpu_row(self, seconds: float) -> str:
        daemon = self.net.delayd
        if daemon is None or daemon.pid is None:
            return "| netem (kernel) | - | - | - |"
        self.set(LinkParams(delay=10))
        pid = daemon.pid
        idle0 = cpu_seconds(pid)
        time.sleep(seconds)
        idle = (cpu_seconds(pid) - idle0) / seconds
        before = daemon.stats()
        cpu0, t0 = cpu_seconds(pid), time.monotonic()
        bg = self.background(seconds)
        bg.wait()
        elapsed = time.monotonic() - t0
        cpu = (cpu_seconds(pid) - cpu0) / elapsed
        after = daemon.stats()
        pkts = sum(after[k]["packets"] - before.get(k, {}).get("packets", 0) for k in after)
        rate = pkts / elapsed
        per_k = 100 * (cpu - idle) / (rate / 1000)
        return f"| {rate:.0f} | {100 * cpu:.1f} % | {100 * idle:.2f} % | {per_k:.1f} % |"


def run(mechanism: str, args: argparse.Namespace, state: Path) -> None:
    use_netem = mechanism == "netem"
    if mechanism == "holder-no-rt":
        os.environ["SCAMPERLAB_DELAYD_REALTIME"] = "0"
    else:
        os.environ.pop("SCAMPERLAB_DELAYD_REALTIME", None)
    net = EmulatedNetwork(
        make_plan(two_routers()), netem=use_netem, log_dir=state, self_check=False
    )
    try:
        net.start()
        bench = Bench(net)
        realtime = net.delayd.realtime if net.delayd else None
        print(
            f"\n### {mechanism}"
            + (f" (real-time priority: {realtime})" if realtime is not None else "")
        )
        print(f"\nload before: {Path('/proc/loadavg').read_text().strip()}\n")
        header(
            False,
            "delay (ms, one way) | expected RTT | replies | median RTT"
            " | p50 error | p99 error | max error | min error",
        )
        for delay in args.delays:
            print(bench.delay_row(delay, args.probes, loaded=True), flush=True)
        header(
            True,
            "loss per direction (%) | expected round-trip loss (%)"
            " | measured round-trip loss (%) | dropped by holder",
        )
        for loss in (1.0, 5.0, 20.0):
            print(bench.loss_row(loss, args.loss_count), flush=True)
        header(
            True,
            "packets/s through the holder | CPU (share of one core) | idle CPU"
            " | CPU per 1,000 packets/s",
        )
        print(bench.cpu_row(args.cpu_seconds), flush=True)
        print(f"\nload after: {Path('/proc/loadavg').read_text().strip()}")
    finally:
        net.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--probes", type=int, default=200)
    parser.add_argument("--delays", default="1,10,50,150")
    parser.add_argument("--loss-count", type=int, default=3000)
    parser.add_argument("--cpu-seconds", type=float, default=10.0)
    parser.add_argument("--mechanisms", default="netem,holder,holder-no-rt")
    args = parser.parse_args()
    args.delays = [float(d) for d in args.delays.split(",")]
    print(f"kernel {os.uname().release}, {os.cpu_count()} CPUs, sch_netem: {kernel_has_netem()}")
    with tempfile.TemporaryDirectory(prefix="scamperlab-delay-bench-") as logs:
        for mechanism in args.mechanisms.split(","):
            if mechanism == "netem" and not kernel_has_netem():
                print("\n### netem\n\nskipped: this kernel has no sch_netem")
                continue
            run(mechanism, args, Path(logs))


if __name__ == "__main__":
    main()
