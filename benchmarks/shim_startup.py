"""What the shim's bootstrap costs each Python a lab's command starts, beside none, in one run.

    .venv/bin/python -m benchmarks.shim_startup [--runs 40] [--no-doc]

Every Python that ``scamperlab run`` starts runs ``shim/boot/sitecustomize.py``
at start-up (it installs the import hook that lets each interpreter import
its own ``scamper``), so a script that starts many Pythons pays it many
times. Measured in a venv made for the run, with a stand-in for CAIDA's
module in its site-packages (tests/standin.py), alternating the two
environments run by run so that the shared machine's load hits both alike:

* ``python -c pass``: interpreter start-up, without and with the bootstrap;
* ``python -c 'import scamper'`` of the stand-in (reduced to its marker, so
  that finding it is what is timed): found by the interpreter itself, and
  found through the hook (which asks every other finder first);
* ``import scamper`` in a venv without a module of its own, through the
  hook: scamperlab's twin (this loads scamperlab's module, so it is the
  twin's own import time, not a cost of the hook).

Reports medians (ms), the with/without ratio and the load average; writes
the section between the ``shim-startup`` markers of ``docs/benchmarks.md``
unless ``--no-doc``. No root, no lab.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.doc import markers, write_section
from scamperlab.shim import environment
from tests.standin import clean_environ, make_interpreter


def once(python: Path, code: str, env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    subprocess.run([str(python), "-c", code], env=env, cwd=cwd, check=True)
    return time.perf_counter() - start


def median_ms(times: list[float]) -> float:
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=40, help="runs of each command")
    parser.add_argument("--no-doc", action="store_true", help="do not write docs/benchmarks.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="scamperlab-shim-bench-") as tmp:
        where = Path(tmp)
        caida = make_interpreter(where / "caida", standin=True)
        # A module with nothing to load, like the marker alone: what is timed is finding it.
        caida.standin.write_text("STANDIN = True\n")
        bare = make_interpreter(where / "bare", standin=False)
        without = clean_environ()
        with_boot = environment(without)
        cases = {
            "start-up (`-c pass`)": (caida.python, "pass", True),
            "`import scamper`, the interpreter's own (stand-in)": (
                caida.python,
                "import scamper",
                True,
            ),
            "`import scamper`, scamperlab's twin (no module of its own)": (
                bare.python,
                "import scamper",
                False,
            ),
        }
        loads = [os.getloadavg()[0]]
        results: dict[str, tuple[float | None, float]] = {}
        for label, (python, code, has_baseline) in cases.items():
            plain: list[float] = []
            booted: list[float] = []
            for i in range(args.runs):
                order = [(plain, without), (booted, with_boot)]
                if not has_baseline:
                    order = order[1:]
                for times, env in order if i % 2 == 0 else order[::-1]:
                    times.append(once(python, code, env, where))
            results[label] = (median_ms(plain) if plain else None, median_ms(booted))
            loads.append(os.getloadavg()[0])
    start, end = markers("shim-startup")
    rows = [
        start,
        "",
        f"`python -m benchmarks.shim_startup --runs {args.runs}`: medians of {args.runs} runs"
        " each, alternating the environments; load average (1 min) "
        + " → ".join(f"{load:.2f}" for load in loads)
        + ".",
        "",
        "| command | without the bootstrap (ms) | with it (ms) | with/without |",
        "| --- | ---: | ---: | ---: |",
    ]
    for label, (plain_ms, booted_ms) in results.items():
        if plain_ms is None:
            rows.append(f"| {label} | (fails: no module) | {booted_ms:.1f} | |")
        else:
            rows.append(
                f"| {label} | {plain_ms:.1f} | {booted_ms:.1f} | {booted_ms / plain_ms:.2f} |"
            )
    rows += ["", end]
    section = "\n".join(rows)
    print(section)
    if not args.no_doc:
        write_section("shim-startup", "What `import scamper`'s bootstrap costs a Python", section)


if __name__ == "__main__":
    main()
