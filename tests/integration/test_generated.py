"""A generated Internet comes up with ``scamperlab up``, and its RTTs follow geography.

Issue 7 (topology library): 30 VPs over 6 ASes, pinged between the two VPs
furthest apart on the globe. The bound is one-sided above the configured
path delay, as in test_delay.py: load only adds delay.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import subprocess
import sys
from pathlib import Path

from scamperlab.topology import load_topology
from scamperlab.topology.cities import great_circle_km
from scamperlab.topology.plan import link_between, make_plan, path_between
from scamperlab.topology.synthetic import FIBRE_KM_PER_MS

SLACK_MS = 10.0


def _cli(state_dir: Path, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, SCAMPERLAB_STATE_DIR=str(state_dir), COLUMNS="200")
    return subprocess.run(
        [sys.executable, "-m", "scamperlab.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_generated_topology_comes_up_and_rtt_follows_distance(
    state_dir: Path, tmp_path: Path
) -> None:
    topo_file = tmp_path / "gen.yaml"
    gen = _cli(state_dir, "generate", "--vps", "30", "--ases", "6", "--seed", "1",
               "-o", str(topo_file), timeout=60)  # fmt: skip
    assert gen.returncode == 0, gen.stderr
    topo = load_topology(topo_file)
    plan = make_plan(topo)

    # The two VPs furthest apart, and what the plan says a ping between them takes.
    a, b = max(
        itertools.combinations(topo.vps, 2),
        key=lambda p: great_circle_km(p[0].latlong, p[1].latlong),  # type: ignore[arg-type]
    )
    km = great_circle_km(a.latlong, b.latlong)  # type: ignore[arg-type]
    path = path_between(plan, a.name, b.name)
    expected = 2 * sum(link_between(plan, x, y).params.delay for x, y in itertools.pairwise(path))
    # Paths follow fibre between cities: never shorter than the great circle.
    assert expected >= 2 * km / FIBRE_KM_PER_MS > 100, (a.name, b.name, km, expected)

    up = _cli(state_dir, "up", str(topo_file), "--name", "gen", timeout=900)
    try:
        assert up.returncode == 0, up.stderr
        state = json.loads((state_dir / "gen" / "state.json").read_text())
        assert len(state["vps"]) == 30
        shells = {p["name"]: p["pid"] for p in state["processes"] if p["kind"] == "shell"}
        out = subprocess.run(
            ["mnexec", "-a", str(shells[a.name]), "ping", "-n", "-q", "-c", "10",
             "-i", "0.2", "-W", "3", str(plan.nodes[b.name].ipv4)],
            capture_output=True, text=True, timeout=60, check=False,
        ).stdout  # fmt: skip
        received = int(re.findall(r"(\d+) received", out)[0])
        assert received > 0, out
        min_rtt = float(re.findall(r"= ([\d.]+)/", out)[0])
        assert expected <= min_rtt < expected + SLACK_MS, (a.name, b.name, min_rtt, expected)
    finally:
        down = _cli(state_dir, "down", "gen", timeout=300)
        assert down.returncode == 0, down.stderr
