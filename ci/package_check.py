"""Build scamperlab's sdist and wheel, install the wheel in a clean venv, and use it.

    python ci/package_check.py [--keep]

What a user gets from ``pip install scamperlab`` must work without this
checkout: the package imports, ``scamperlab --version`` runs, the pytest
plugin is registered through its entry point, and the built-in topology is
a real file inside the package. The wheel is installed without extras, as
most users will: none of the optional packages comes along, the scamper
module and the plugin work all the same, and the commands that need an
extra (draw, audit, deploy) name it and fail. Run by tox's ``packaging``
environment and by the test suite. Needs the package registry (build
backend, dependencies; pip's cache makes it quick after the first time).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The packages of the extras (and PyPI's mininet, which nothing but a benchmark needs).
OPTIONAL = ("matplotlib", "scapy", "paramiko", "mininet")


def run(argv: list[str], cwd: Path) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"failed: {' '.join(argv)}\n{done.stdout}\n{done.stderr}")
    return done.stdout


def check(work: Path) -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    dist = work / "dist"
    # setuptools writes egg-info next to the sources: build from a copy, so the
    # checkout is left as it was.
    src = work / "src"
    junk = shutil.ignore_patterns(".*", "*.egg-info", "build", "dist", "site", "__pycache__")
    shutil.copytree(ROOT, src, symlinks=True, ignore=junk)
    # Without --sdist/--wheel, build makes the sdist and then the wheel from it:
    # what is missing from the sdist is missing from the wheel too.
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(src)], work)
    wheels = list(dist.glob("scamperlab-*.whl"))
    sdists = list(dist.glob("scamperlab-*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, sorted(p.name for p in dist.iterdir())
    print(f"built {sdists[0].name} and {wheels[0].name}")

    venv = work / "venv"
    run([sys.executable, "-m", "venv", str(venv)], work)
    python, bindir = venv / "bin" / "python", venv / "bin"
    run([str(python), "-m", "pip", "install", "-q", str(wheels[0]), "pytest"], work)

    # From the temporary directory, so that this checkout cannot be imported instead.
    probe = (
        "import importlib.metadata as m, pathlib, scamperlab, scamperlab.pytest_plugin as p;"
        "print(scamperlab.__file__);"
        "print([e.value for e in m.entry_points(group='pytest11', name='scamperlab')]);"
        "t = p.BUILTIN_TOPOLOGIES / 'ark-mini.yaml';"
        "print(t.is_file() and not t.is_symlink())"
    )
    where, entry, topology = run([str(python), "-c", probe], work).split("\n")[:3]
    assert where.startswith(str(venv)), f"imported {where}, not the installed package"
    assert entry == "['scamperlab.pytest_plugin']", entry
    assert topology == "True", "the built-in topology is missing from the wheel"
    print(f"import scamperlab: ok ({where})")

    out = run([str(bindir / "scamperlab"), "--version"], work).strip()
    assert out == f"scamperlab {version}", out
    print(f"scamperlab --version: {out}")

    builtin = Path(where).parent / "data" / "topologies" / "ark-mini.yaml"
    run([str(bindir / "scamperlab"), "check", str(builtin)], work)
    assert builtin.read_bytes() == (ROOT / "topologies" / "ark-mini.yaml").read_bytes()

    check_import_scamper(python, work)

    help_text = run([str(python), "-m", "pytest", "--help"], work)
    assert "--scamperlab-topology" in help_text, "the pytest plugin is not registered"
    print("pytest plugin: registered through the pytest11 entry point")

    check_without_extras(python, bindir / "scamperlab", builtin, work)


def check_import_scamper(python: Path, work: Path) -> None:
    """The shim's bootstrap and the PPA's commands came along: ``import scamper`` works in a
    Python that has neither scamperlab nor a scamper module, given the PYTHONPATH it prints."""
    boot = run([str(python), "-m", "scamperlab.shell"], work).strip()
    assert boot.startswith(str(python.parents[1])) and Path(boot, "sitecustomize.py").is_file()
    bare = work / "bare"
    run([sys.executable, "-m", "venv", "--without-pip", str(bare)], work)
    probe = "import scamper; print(scamper.__file__)"
    done = subprocess.run(
        [str(bare / "bin" / "python"), "-c", probe],
        cwd=work,
        env={"PYTHONPATH": boot, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    where = done.stdout.strip()
    assert done.returncode == 0 and where.startswith(str(python.parents[1])), done.stderr
    commands = run(
        [
            str(python),
            "-c",
            "from scamperlab.processes.sources import ppa_commands; print(len(ppa_commands()))",
        ],
        work,
    ).strip()
    assert commands == "3", commands
    print(f"import scamper in a bare Python, through {boot}: {where}")


def check_without_extras(python: Path, scamperlab: Path, topology: Path, work: Path) -> None:
    """The core works without any extra; each optional command names its extra and fails."""
    probe = f"import importlib.util as u; print([m for m in {OPTIONAL!r} if u.find_spec(m)])"
    present = run([str(python), "-c", probe], work).strip()
    assert present == "[]", f"installed without extras, yet these came along: {present}"
    run([str(python), "-c", "from scamperlab.scamper import ScamperCtrl, ScamperFile"], work)
    print(f"without extras: none of {', '.join(OPTIONAL)}; scamperlab.scamper imports")

    script = work / "survey.py"
    script.write_text("from scamper import ScamperCtrl\n\nprint(ScamperCtrl)\n")
    run([str(scamperlab), "check", str(script)], work)  # a static check: no paramiko needed
    for extra, args in (
        ("draw", ["draw", str(topology), "-o", str(work / "topology.png")]),
        ("audit", ["audit", str(topology), "--", "true"]),
        ("deploy", ["deploy", str(script), "--host", "ark.invalid"]),
    ):
        done = subprocess.run(
            [str(scamperlab), *args], cwd=work, capture_output=True, text=True, check=False
        )
        said = " ".join((done.stdout + done.stderr).split())
        assert done.returncode != 0, f"scamperlab {extra} without its extra exited 0: {said}"
        # The whole command, "[extra]" included: rich would take an unescaped "[draw]"
        # for a style and print "pip install 'scamperlab'", which installs nothing new.
        assert f"pip install 'scamperlab[{extra}]'" in said, said
        assert "Traceback" not in said, said
        print(f"scamperlab {extra} without its extra: exit {done.returncode}, {said}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the build and venv directory")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="scamperlab-package-"))
    try:
        check(work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("package check: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
