"""What the pytest plugin's fixtures cost a test, beside a bare ``Lab`` in the same run.

    sudo .venv/bin/python -m benchmarks.fixture_startup [--tests 5] [--repeat 3]

For the default topology (the built-in ark-mini, 14 VPs) and a 3-VP one
(examples/userproject/topology.yaml), in one run:

* baseline: ``Lab.start()`` and ``Lab.stop()`` called directly, which is what
  a hand-written fixture pays;
* function scope: a pytest run of ``--tests`` tests that each ask for
  ``scamperlab_ctrl`` (lab, mux and a connected ``ScamperCtrl``), each test
  getting its own lab: set-up and teardown time per test, from pytest's own
  reports;
* session scope: the same tests sharing one lab: the first test's set-up
  and the median of the others'.

Prints a Markdown table (medians, seconds).
"""

from __future__ import annotations

import argparse
import logging
import shutil
import statistics
import tempfile
import time
from importlib.metadata import entry_points
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.pytest_plugin import BUILTIN_TOPOLOGIES
from scamperlab.topology.loader import load_topology

ROOT = Path(__file__).resolve().parents[1]
TOPOLOGIES = {
    "ark-mini (default)": BUILTIN_TOPOLOGIES / "ark-mini.yaml",
    "3 VPs (examples/userproject)": ROOT / "examples" / "userproject" / "topology.yaml",
}
TEST = """
def test_{n}(scamperlab_ctrl):
    assert scamperlab_ctrl.vps()
"""


class Durations:
    """Set-up and teardown time of each test, as pytest reports them."""

    def __init__(self) -> None:
        self.setup: list[float] = []
        self.teardown: list[float] = []
        self.failed: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.when in ("setup", "teardown"):
            getattr(self, report.when).append(report.duration)
        if report.failed or report.skipped:
            self.failed.append(f"{report.nodeid} {report.when}: {report.longreprtext[-300:]}")


def bare_lab(topology: Path, state: Path, repeat: int) -> tuple[float, float]:
    starts, stops = [], []
    for i in range(repeat):
        lab = Lab.from_file(topology, name=f"bench-{i}", state_dir=state)
        t0 = time.monotonic()
        lab.start()
        t1 = time.monotonic()
        lab.stop()
        starts.append(t1 - t0)
        stops.append(time.monotonic() - t1)
    return statistics.median(starts), statistics.median(stops)


def plugin_run(topology: Path, state: Path, scope: str, tests: int) -> Durations:
    where = Path(tempfile.mkdtemp(prefix="scamperlab-bench-"))
    try:
        (where / f"test_bench_{scope}.py").write_text(
            "".join(TEST.format(n=n) for n in range(tests))
        )
        args = [str(where), "-q", "-p", "no:cacheprovider", "--import-mode=importlib"]
        args += ["--scamperlab-topology", str(topology), "--scamperlab-scope", scope]
        args += ["--scamperlab-state-dir", str(state), "--scamperlab-require", "-W", "ignore"]
        if not entry_points(group="pytest11", name="scamperlab"):
            args += ["-p", "scamperlab.pytest_plugin"]
        durations = Durations()
        code = pytest.main(args, plugins=[durations])
        if code != 0 or durations.failed:
            raise SystemExit(f"benchmark tests failed ({code}): {durations.failed}")
        return durations
    finally:
        shutil.rmtree(where, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5, help="tests per pytest run")
    parser.add_argument("--repeat", type=int, default=3, help="bare Lab start/stop cycles")
    args = parser.parse_args()
    logging.getLogger("scamperlab").setLevel(logging.ERROR)  # the no-netem warning, per lab
    state = Path(tempfile.mkdtemp(prefix="slb-", dir="/run"))
    print(
        "| topology | VPs | Lab.start() | Lab.stop() | function scope: set-up per test"
        " | function scope: teardown per test | session scope: first test | session scope:"
        " each later test |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    try:
        for label, topology in TOPOLOGIES.items():
            vps = len(load_topology(topology).vps)
            start, stop = bare_lab(topology, state, args.repeat)
            function = plugin_run(topology, state, "function", args.tests)
            session = plugin_run(topology, state, "session", args.tests)
            print(
                f"| {label} | {vps} | {start:.2f} | {stop:.2f}"
                f" | {statistics.median(function.setup):.2f}"
                f" | {statistics.median(function.teardown):.2f}"
                f" | {session.setup[0]:.2f} | {statistics.median(session.setup[1:]):.3f} |",
                flush=True,
            )
    finally:
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
