"""``import scamper`` is decided by each interpreter: its own module if any, scamperlab's if none.

Without a lab: these run the children exactly as ``scamperlab run`` starts
them (``shim.environment``), in other interpreters (venvs made per test,
one with a stand-in for CAIDA's module; see tests/standin.py).
"""

from __future__ import annotations

import ast
import json
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from scamperlab import shim
from scamperlab.errors import ScamperlabError
from scamperlab.shim import BOOT_DIR, ImportChoice, environment, finder, read_choices
from tests.standin import PROBE, Interpreter, clean_environ, make_interpreter

ROOT = Path(__file__).resolve().parents[2]
TWIN = ROOT / "scamperlab" / "shim" / "scamper" / "__init__.py"


@pytest.fixture(autouse=True)
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Children run away from this checkout, where ``python -c`` would find scamperlab in '.'."""
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def caida(tmp_path: Path) -> Interpreter:
    return make_interpreter(tmp_path / "caida", standin=True)


@pytest.fixture
def bare(tmp_path: Path) -> Interpreter:
    return make_interpreter(tmp_path / "bare", standin=False)


def run(
    argv: list[str], *, log: Path | None = None, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``argv`` with the environment ``scamperlab run`` gives a command."""
    return subprocess.run(
        argv,
        env=environment(clean_environ(**extra), import_log=log),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def imported(python: Path, **extra: str) -> tuple[str, bool]:
    done = run([str(python), "-c", PROBE], **extra)
    assert done.returncode == 0, done.stderr
    where, standin = done.stdout.splitlines()
    return where, standin == "True"


def test_the_boot_directory_holds_nothing_that_could_shadow_a_module() -> None:
    assert sorted(p.name for p in BOOT_DIR.iterdir() if p.name != "__pycache__") == [
        "sitecustomize.py"
    ]
    env = environment({"PYTHONPATH": f"/mine:{BOOT_DIR}"})
    assert env["PYTHONPATH"] == f"{BOOT_DIR}:/mine"  # first, once, the user's path kept
    assert environment(env)["PYTHONPATH"] == env["PYTHONPATH"]


def test_an_interpreter_with_its_own_scamper_imports_it_never_the_twin(
    caida: Interpreter,
) -> None:
    assert imported(caida.python) == (str(caida.standin), True)


def test_an_interpreter_without_one_gets_scamperlab_s_even_without_scamperlab(
    bare: Interpreter,
) -> None:
    # The bare venv has no scamperlab: the hook supplies the package the twin re-exports.
    assert subprocess.run([bare.python, "-c", "import scamperlab"], check=False).returncode != 0
    probe = (
        "import scamper, scamperlab; print(scamper.__file__); print(scamperlab.__file__);"
        " print(scamper.ScamperCtrl.__module__)"
    )
    done = run([str(bare.python), "-c", probe])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        str(TWIN),
        str(ROOT / "scamperlab" / "__init__.py"),
        "scamperlab.scamper.ctrl",
    ]


def test_a_shell_script_s_python_decides_for_itself(
    caida: Interpreter, bare: Interpreter, tmp_path: Path
) -> None:
    script = tmp_path / "measure.sh"
    script.write_text(f'#!/bin/sh\nfor py in "$@"; do "$py" -c "{PROBE}"; done\n')
    done = run(["sh", str(script), str(caida.python), str(bare.python)])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(caida.standin), "True", str(TWIN), "False"]


def test_real_forced_where_there_is_none_fails_and_says_why(
    caida: Interpreter, bare: Interpreter
) -> None:
    done = run([str(bare.python), "-c", PROBE], SCAMPERLAB_SCAMPER="real")
    assert done.returncode == 1
    assert "ModuleNotFoundError: SCAMPERLAB_SCAMPER=real, but " in done.stderr
    assert f"{bare.python} (Python " in done.stderr
    assert "has no scamper module of its own: install CAIDA's module" in done.stderr
    assert imported(caida.python, SCAMPERLAB_SCAMPER="real") == (str(caida.standin), True)


def test_scamperlab_forced_gives_the_twin_even_beside_a_real_module(caida: Interpreter) -> None:
    assert imported(caida.python, SCAMPERLAB_SCAMPER="scamperlab") == (str(TWIN), False)


def test_a_bad_mode_is_refused_before_and_inside(bare: Interpreter) -> None:
    with pytest.raises(ScamperlabError, match=r"SCAMPERLAB_SCAMPER='caida': use 'real'"):
        environment({"SCAMPERLAB_SCAMPER": "caida"})
    env = environment(clean_environ())
    env["SCAMPERLAB_SCAMPER"] = "caida"  # set after scamperlab looked: the child says so
    done = subprocess.run(
        [bare.python, "-c", PROBE], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 1 and "SCAMPERLAB_SCAMPER='caida': use 'real'" in done.stderr


def test_the_sitecustomize_the_bootstrap_hides_still_runs(caida: Interpreter) -> None:
    (caida.site / "sitecustomize.py").write_text("MINE = 'ran'\n")
    probe = f"import sitecustomize; print(sitecustomize.MINE); {PROBE}"
    done = run([str(caida.python), "-c", probe])
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["ran", str(caida.standin), "True"]


def test_two_bootstraps_on_the_path_install_one_hook_and_end(
    caida: Interpreter, tmp_path: Path
) -> None:
    """A lab command that starts ``scamperlab run`` of another scamperlab: the chain ends."""
    other = tmp_path / "other" / "scamperlab" / "shim"
    shutil.copytree(BOOT_DIR.parent, other, ignore=shutil.ignore_patterns("__pycache__"))
    (caida.site / "sitecustomize.py").write_text(
        "import sys; sys.ran = getattr(sys, 'ran', 0) + 1\n"
    )
    probe = (
        "import sys; print(sys.ran);"
        " print(sum(1 for f in sys.meta_path if getattr(f, 'scamperlab_scamper_finder', 0)))"
    )
    done = run([str(caida.python), "-c", probe], PYTHONPATH=str(other / "boot"))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]


def test_each_choice_is_logged_for_the_lab(
    caida: Interpreter, bare: Interpreter, tmp_path: Path
) -> None:
    log = tmp_path / "imports.log"
    for python in (caida.python, bare.python):
        assert run([str(python), "-c", PROBE], log=log).returncode == 0
    assert run([str(bare.python), "-c", PROBE], log=log, SCAMPERLAB_SCAMPER="scamperlab")
    first, offset = read_choices(log)
    assert [(c.python, c.module, c.origin, c.forced) for c in first] == [
        (str(caida.python), "real", str(caida.standin), ""),
        (str(bare.python), "scamperlab", str(TWIN), ""),
        (str(bare.python), "scamperlab", str(TWIN), "scamperlab"),
    ]
    assert "its own scamper module (CAIDA's), " in first[0].describe()
    assert "it has no scamper of its own" in first[1].describe()
    assert "as SCAMPERLAB_SCAMPER=scamperlab asks" in first[2].describe()
    # Read on from where it stopped; a line still being written waits for the next read.
    with open(log, "a") as f:
        f.write(json.dumps({"pid": 1, "python": "p", "version": "3", "module": "real"}))
    assert read_choices(log, offset) == ([], offset)
    with open(log, "a") as f:
        f.write(', "origin": "o"}\n'.replace(', "origin"', ""))  # broken: skipped, not fatal
    assert read_choices(log, offset)[0] == []


def test_scamperlab_s_own_process_uses_the_same_hook() -> None:
    """The pytest plugin and ``scamperlab.shell`` install it in process, with listeners."""
    code = (
        "import importlib.util, json, sys; from scamperlab import shim; seen = [];"
        " shim.install(); shim.install(); shim.on_choice(seen.append);"
        " importlib.util.find_spec('scamper'); import scamper; print(scamper.__file__);"
        " print(sum(1 for f in sys.meta_path if getattr(f, 'scamperlab_scamper_finder', 0)));"
        " print(seen == shim.choices_here() and len(seen) == 1 and seen[0].module)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_environ(), capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(TWIN), "1", "scamperlab"]
    # Listening alone installs nothing: a script's `import scamper` stays its own business.
    code = "from scamperlab import shim; shim.on_choice(print); import scamper"
    done = subprocess.run(
        [sys.executable, "-c", code], env=clean_environ(), capture_output=True, text=True
    )
    assert done.returncode == 1 and "No module named 'scamper'" in done.stderr


def test_a_python_too_old_for_the_twin_is_told_what_to_do(bare: Interpreter) -> None:
    probe = "import sys; sys.modules['_scamperlab_scamper_finder'].MIN_PYTHON = (99, 0); " + PROBE
    done = run([str(bare.python), "-c", probe])
    assert done.returncode == 1
    assert "scamperlab's needs Python 99.0 or newer: install CAIDA's module" in done.stderr


def test_probe_says_what_a_lab_s_command_would_get(caida: Interpreter, bare: Interpreter) -> None:
    got = shim.probe(str(caida.python), clean_environ())
    assert isinstance(got, ImportChoice) and got.real and got.origin == str(caida.standin)
    got = shim.probe(str(bare.python), clean_environ())
    assert isinstance(got, ImportChoice) and not got.real and got.origin == str(TWIN)
    failed = shim.probe(str(bare.python), clean_environ(SCAMPERLAB_SCAMPER="real"))
    assert isinstance(failed, str) and "has no scamper module of its own" in failed
    assert "cannot run /nonexistent" in str(shim.probe("/nonexistent", clean_environ()))


def test_the_hook_runs_in_any_python_scamperlab_may_meet() -> None:
    """Ubuntu 20.04's python3 is 3.8: the bootstrap and hook must at least parse there."""
    for path in (BOOT_DIR / "sitecustomize.py", Path(finder.__file__)):
        ast.parse(path.read_text(), str(path), feature_version=(3, 8))
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert requires == ">=" + ".".join(map(str, finder.MIN_PYTHON))
