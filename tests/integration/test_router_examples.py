"""examples/mda_trace.py and examples/aliases.py run unchanged under ``scamperlab run``
and print what the ground truth says they should."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from scamperlab.topology.loader import load_topology
from scamperlab.topology.plan import make_plan
from scamperlab.topology.truth import alias_sets, path_truth
from tests.integration.conftest import ROOT
from tests.integration.test_examples import python3

LOADBALANCED = ROOT / "topologies" / "loadbalanced.yaml"
ALIASES = ROOT / "topologies" / "aliases.yaml"


def example(topology: Path, name: str, state_dir: Path, script: str, *args: str) -> list[str]:
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir))
    env.pop("PYTHONPATH", None)  # only scamperlab run may make `import scamper` work
    lab = [sys.executable, "-m", "scamperlab.cli", "run", str(topology), "--name", name, "--"]
    proc = subprocess.run(
        [*lab, python3(), f"examples/{script}", "{mux}", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"rc={proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    assert "Traceback" not in proc.stderr, proc.stderr
    assert not (state_dir / name).exists(), "scamperlab run left its lab behind"
    return proc.stdout.splitlines()


def test_mda_trace_prints_every_true_link(state_dir: Path) -> None:
    plan = make_plan(load_topology(LOADBALANCED))
    truth = path_truth(plan, "mda.example", "192.0.2.4")
    lines = example(LOADBALANCED, "exmda", state_dir, "mda_trace.py", "192.0.2.4")
    want = sorted(
        f"{link.near} -> {link.far}" + (f" ({link.length} hops)" if link.length > 1 else "")
        for link in truth.links
    )
    assert sorted(lines[:-1]) == want
    assert lines[-1] == f"mda.example: {len(want)} links to 192.0.2.4, widest branching 4"


def test_aliases_example_tells_true_from_false_pairs(state_dir: Path) -> None:
    plan = make_plan(load_topology(ALIASES))
    truth = alias_sets(plan, 4)
    r1 = [str(i.ipv4.ip) for i in plan.nodes["r1"].interfaces]
    r2 = [str(i.ipv4.ip) for i in plan.nodes["r2"].interfaces]
    assert {r1[0], r1[1]} <= truth["r1"] and r2[0] in truth["r2"]
    same = example(ALIASES, "exally1", state_dir, "aliases.py", r1[0], r1[1])
    assert same == [f"{r1[0]} {r1[1]}: aliases"]
    different = example(ALIASES, "exally2", state_dir, "aliases.py", r1[0], r2[0])
    assert different == [f"{r1[0]} {r2[0]}: not aliases"]
