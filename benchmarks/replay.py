"""A replay next to the lab it was recorded in: start-up time and results per second.

    sudo .venv/bin/python -m benchmarks.replay [--vps 20] [--pings 20] [--repeat 3]

In one run, on the same machine and at the same load:

1. **Lab.** A ring lab of ``--vps`` VPs (``benchmarks.scale``'s topology,
   no link delay, each VP's rate raised so that scamper's pacing is not the
   limit) starts, recording its mux (what ``run --record`` does); one
   ``ScamperCtrl`` opens every VP, asks each for ``--pings`` single-probe
   pings at once and collects ``responses()``. Reported: ``Lab.start()``
   and results per second from the first command to the last result.
2. **Replay.** The recording just made is served by
   :class:`scamperlab.lab.replay.Replay` at ``--speed max`` and at the
   recorded speed, and the same client code runs against it. Reported: the
   time from ``Replay(path)`` to a mux socket that accepts (the recording
   read included), and results per second.

Every figure is the median of ``--repeat`` runs; ratios are replay over lab.
Writes the section between the ``replay`` markers of ``docs/benchmarks.md``
unless ``--no-doc``.
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

from benchmarks.doc import markers, write_section
from benchmarks.scale import loadavg
from scamperlab.lab import Lab
from scamperlab.lab.replay import Replay
from scamperlab.mux.recorder import Recorder
from scamperlab.scamper import ScamperCtrl
from scamperlab.topology.generate import ring

START, END = markers("replay")


def fan_out(mux: str, pings: int, targets: list[str]) -> tuple[float, int]:
    """Every VP on ``mux`` asked for ``pings`` pings at once: (results per second, results)."""
    ctrl = ScamperCtrl(mux=mux)
    insts = ctrl.add_vps(sorted(ctrl.vps(), key=lambda vp: vp.name))
    start = time.perf_counter()
    for i in range(pings):
        for inst in insts:
            ctrl.do_ping(targets[i % len(targets)], attempts=1, stop_count=1, inst=inst)
    got = sum(1 for _ in ctrl.responses(timeout=120))
    elapsed = time.perf_counter() - start
    ctrl.done()
    del insts, ctrl
    return got / elapsed, got


def lab_run(vps: int, pings: int, recording: Path) -> tuple[float, float, int, list[str]]:
    """(start-up s, results/s, results, targets) of one recorded lab run."""
    base = ring(vps, 4, delay_ms=0.0, name="rpbench")
    topo = base.model_copy(update={"defaults": base.defaults.model_copy(update={"rate": 10000})})
    recorder = Recorder({"benchmark": "replay"})
    with tempfile.TemporaryDirectory(prefix="slr-", dir="/run") as state:
        lab = Lab(topo, state_dir=state, recorder=recorder)
        began = time.perf_counter()
        lab.start()
        startup = time.perf_counter() - began
        try:
            targets = [str(t.ipv4) for t in lab.targets]
            rate, got = fan_out(str(lab.mux_path), pings, targets)
        finally:
            lab.stop()
    recorder.save(recording)
    return startup, rate, got, targets


def replay_run(
    recording: Path, speed: float, pings: int, targets: list[str]
) -> tuple[float, float, int]:
    """(start-up s, results/s, results) of one replay of ``recording``."""
    began = time.perf_counter()
    with Replay(recording, speed=speed) as replay:
        startup = time.perf_counter() - began
        rate, got = fan_out(str(replay.mux_path), pings, targets)
        if replay.unrecorded:
            raise SystemExit(f"the replay missed commands: {replay.unrecorded[:3]}")
    return startup, rate, got


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--vps", type=int, default=20)
    parser.add_argument("--pings", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    load_before = loadavg()
    rows: dict[str, list[tuple[float, float, int]]] = {"lab": [], "max": [], "1": []}
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(args.repeat):
            recording = Path(tmp) / f"run{n}.rec"
            startup, rate, got, targets = lab_run(args.vps, args.pings, recording)
            rows["lab"].append((startup, rate, got))
            rows["max"].append(replay_run(recording, math.inf, args.pings, targets))
            rows["1"].append(replay_run(recording, 1.0, args.pings, targets))
            size = recording.stat().st_size
            print(f"run {n + 1} of {args.repeat} done", flush=True)
    load_after = loadavg()

    def med(kind: str, i: int) -> float:
        return statistics.median(r[i] for r in rows[kind])

    lab_start, lab_rate = med("lab", 0), med("lab", 1)
    table = [
        "| what | start-up (s) | results/s | results | start-up vs lab | results/s vs lab |",
        "|---|---:|---:|---:|---:|---:|",
        f"| lab, {args.vps} VPs (recording) | {lab_start:.3f} | {lab_rate:,.0f} |"
        f" {int(med('lab', 2))} | 1 | 1 |",
    ]
    for kind, label in (("max", "replay, --speed max"), ("1", "replay, recorded speed")):
        start, rate = med(kind, 0), med(kind, 1)
        table.append(
            f"| {label} | {start:.3f} | {rate:,.0f} | {int(med(kind, 2))} |"
            f" {start / lab_start:.3f} | {rate / lab_rate:.2f} |"
        )
    section = "\n".join(
        [
            START,
            "",
            f"`sudo .venv/bin/python -m benchmarks.replay --vps {args.vps} --pings {args.pings}"
            f" --repeat {args.repeat}`: medians of {args.repeat} runs, each a lab run recorded"
            " and then replayed twice, in the same process. Load average (1, 5, 15 min)"
            f" before: {load_before}; after: {load_after}. Recording size: {size:,} bytes"
            f" for {int(med('lab', 2))} results.",
            "",
            *table,
            "",
            END,
        ]
    )
    print(section)
    if not args.no_doc:
        write_section("replay", "Record and replay", section)


if __name__ == "__main__":
    main()
