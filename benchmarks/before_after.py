"""The same lab benchmark on two checkouts, alternating, in one run: did a change cost speed?

    sudo .venv/bin/python -m benchmarks.before_after --before DIR [--sizes 100,1000] [--rounds 3]

``DIR`` is another checkout of scamperlab (e.g. ``git worktree add /tmp/before
<commit>``). For each round and size, ``benchmarks.scale.scamperlab_lab`` (start
a ring lab of N VPs until every VP is on the mux, ping every VP through one
``ScamperCtrl``, tear it down, check nothing is left) runs once from each
checkout, in a fresh interpreter whose ``scamperlab`` and ``benchmarks`` are that
checkout's, alternating which goes first so that a change of load on this
shared machine hits both alike. Reports medians, the after/before ratio and
the load average beside every figure; writes the section between the
``before-after`` markers of ``docs/benchmarks.md`` unless ``--no-doc``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.doc import markers, write_section

ROOT = Path(__file__).resolve().parent.parent
START, END = markers("before-after")

# Run in the checkout under test: its own scamperlab, its own benchmark code.
PROBE = """
import json, sys
import scamperlab
from benchmarks.scale import scamperlab_lab
assert scamperlab.__file__.startswith(sys.argv[1]), scamperlab.__file__
print(json.dumps(scamperlab_lab(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]))))
"""


def run_tree(tree: Path, n: int, pings: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="sl-ba-", dir="/run") as state:
        env = dict(os.environ, PYTHONPATH=str(tree))
        done = subprocess.run(
            [sys.executable, "-c", PROBE, str(tree), str(n), state, str(pings)],
            cwd=tree,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
    if done.returncode != 0:
        raise SystemExit(f"{tree} at {n} VPs failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "up_s": statistics.median(r["up_s"] for r in runs),
        "down_s": statistics.median(r["down_s"] for r in runs),
        "fanout_per_s": statistics.median(r["fanout"]["per_s"] for r in runs),
        "all_results": all(r["fanout"]["results"] == r["fanout"]["expected"] for r in runs),
        "leftovers": sum(r["leftover_processes"] + int(r["leftover_state"]) for r in runs),
        "loads": [r["load"] for r in runs],
    }


def paired_ratio(runs: dict[str, list[dict[str, Any]]], key: str) -> float:
    """The median of each round's after/before ratio: the two runs of a round are
    neighbours in time, so a change of load hits both, unlike medians taken apart."""

    def value(run: dict[str, Any]) -> float:
        return float(run["fanout"]["per_s"] if key == "fanout_per_s" else run[key])

    ratios = [value(a) / value(b) for b, a in zip(runs["before"], runs["after"], strict=True)]
    return statistics.median(ratios)


def markdown(
    before: str, sizes: list[int], runs: dict[int, dict[str, list[dict[str, Any]]]], pings: int
) -> str:
    rounds = len(runs[sizes[0]]["before"])
    lines = [
        START,
        "",
        f"`python -m benchmarks.before_after --before DIR --rounds {rounds} --pings {pings}`,"
        f" before = {before}: {rounds} rounds, each running both trees back to back",
        f"(alternating which goes first); ring topology, one `ScamperCtrl` pinging every VP"
        f" {pings} time(s); nothing left after teardown in any run. Medians per tree, and the",
        "median of the rounds' after/before ratios.",
        "",
        "| VPs | | before | after | after/before | load averages (1, 5, 15 min) |",
        "| ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for n in sizes:
        b, a = summarise(runs[n]["before"]), summarise(runs[n]["after"])
        loads = "; ".join(a["loads"])
        for key, label, unit in (
            ("up_s", "start-up", "s"),
            ("down_s", "teardown", "s"),
            ("fanout_per_s", "fan-out", "results/s"),
        ):
            ratio = paired_ratio(runs[n], key)
            lines.append(
                f"| {n:,} | {label} | {b[key]:,.2f} {unit} | {a[key]:,.2f} {unit} | {ratio:.2f} |"
                f" {loads if key == 'up_s' else ''} |"
            )
    lines += ["", END]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, required=True, help="the other checkout")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--pings", type=int, default=1)
    parser.add_argument("--no-doc", action="store_true")
    args = parser.parse_args()
    before = args.before.resolve()
    sizes = [int(s) for s in args.sizes.split(",")]
    runs: dict[int, dict[str, list[dict[str, Any]]]] = {
        n: {"before": [], "after": []} for n in sizes
    }
    for i in range(args.rounds):
        for n in sizes:
            order = [("before", before), ("after", ROOT)]
            if i % 2:
                order.reverse()
            for which, tree in order:
                result = run_tree(tree, n, args.pings)
                runs[n][which].append(result)
                print(
                    f"round {i + 1} {n} VPs {which}: up {result['up_s']:.2f} s,"
                    f" down {result['down_s']:.2f} s, load {result['load']}",
                    flush=True,
                )
    label = subprocess.run(
        ["git", "-C", str(before), "log", "-1", "--format=%h (%s)"],
        capture_output=True, text=True, check=False,
    ).stdout.strip() or str(before)  # fmt: skip
    out = ROOT / "benchmarks" / "results" / "before_after.json"
    out.write_text(json.dumps({"before": label, "pings": args.pings, "runs": runs}, indent=1))
    section = markdown(label, sizes, runs, args.pings)
    print(section)
    if not args.no_doc:
        write_section("before-after", "Before and after a change", section)


if __name__ == "__main__":
    main()
