"""CAIDA's module wherever the user has it (issue 16), in real labs.

CAIDA's module cannot be installed here, so a stand-in for it lives in
another interpreter's site-packages (tests/standin.py): a venv whose
``scamper`` says it is the stand-in. Every way a lab starts Python must
give that interpreter its own module and never scamperlab's twin, and the
twin only to an interpreter without one; the lab says which it was.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from scamperlab.shim import BOOT_DIR
from tests.integration.conftest import TINY
from tests.standin import PROBE, Interpreter, clean_environ, make_interpreter

TWIN = BOOT_DIR.parent / "scamper" / "__init__.py"

# A measurement through the lab's mux with whatever `import scamper` gave.
MEASURE = PROBE + (
    "; import sys; ctrl = scamper.ScamperCtrl(mux=sys.argv[1]);"
    " print(sorted(vp.name for vp in ctrl.vps()))"
)
VPS = "['vp1.test', 'vp2.test', 'vp3.test']"


@pytest.fixture(scope="module")
def pythons(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Interpreter]:
    """Four interpreters: with and without the stand-in, each also with pytest and scamperlab."""
    root = tmp_path_factory.mktemp("pythons")
    return {
        "caida": make_interpreter(root / "caida", standin=True),
        "bare": make_interpreter(root / "bare", standin=False),
        "caida+pytest": make_interpreter(root / "caida-pytest", standin=True, scamperlab_env=True),
        "bare+pytest": make_interpreter(root / "bare-pytest", standin=False, scamperlab_env=True),
    }


def scamperlab_run(
    state_dir: Path, cwd: Path, *command: str, **extra: str
) -> subprocess.CompletedProcess[str]:
    """``scamperlab run tiny.yaml -- COMMAND`` from ``cwd``, away from this checkout."""
    env = clean_environ(SCAMPERLAB_STATE_DIR=str(state_dir), **extra)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "scamperlab.cli",
            "run",
            str(TINY),
            "--name",
            "caida",
            "--",
            *command,
        ],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert "Traceback" not in done.stderr or extra.get("SCAMPERLAB_SCAMPER") == "real", done.stderr
    assert not (state_dir / "caida").exists(), "scamperlab run left its lab behind"
    return done


def said(done: subprocess.CompletedProcess[str]) -> str:
    return " ".join(done.stderr.split())


def test_run_gives_an_interpreter_its_own_module_and_says_so(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path
) -> None:
    caida = pythons["caida"]
    done = scamperlab_run(state_dir, tmp_path, str(caida.python), "-c", MEASURE, "{mux}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(caida.standin), "True", VPS]
    assert (
        f"import scamper in {caida.python}: its own scamper module (CAIDA's), {caida.standin}"
        in said(done)
    )


def test_run_gives_scamperlab_s_module_only_where_there_is_none(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path
) -> None:
    bare = pythons["bare"]
    done = scamperlab_run(state_dir, tmp_path, str(bare.python), "-c", MEASURE, "{mux}")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(TWIN), "False", VPS]
    assert f"import scamper in {bare.python}: scamperlab's pure-Python" in said(done)


def test_a_shell_script_s_pythons_each_decide(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path
) -> None:
    script = tmp_path / "survey.sh"
    script.write_text(
        f"#!/bin/sh\nfor py in {pythons['caida'].python} {pythons['bare'].python}; do\n"
        f'  "$py" -c "{MEASURE}" "$1"\ndone\n'
    )
    done = scamperlab_run(state_dir, tmp_path, "sh", str(script), "{mux}")
    assert done.returncode == 0, done.stderr
    caida = pythons["caida"]
    assert done.stdout.splitlines() == [str(caida.standin), "True", VPS, str(TWIN), "False", VPS]


def test_pytest_under_run_in_another_interpreter_gets_its_module(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path
) -> None:
    """The bug of issue 16: the shim on PYTHONPATH shadowed CAIDA's module in a child pytest."""
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            """
            import os
            import scamper

            def test_the_module():
                assert getattr(scamper, "STANDIN", False), scamper.__file__
                ctrl = scamper.ScamperCtrl(mux=os.environ["SCAMPERLAB_MUX"])
                assert len(ctrl.vps()) == 3
            """
        )
    )
    caida = pythons["caida+pytest"]
    done = scamperlab_run(
        state_dir, tmp_path, str(caida.python), "-m", "pytest", "-p", "no:cacheprovider"
    )
    assert done.returncode == 0, done.stdout + done.stderr
    header = f"scamperlab: import scamper gives its own scamper module (CAIDA's), {caida.standin}"
    assert header in done.stdout


@pytest.mark.parametrize("which", ["caida+pytest", "bare+pytest"])
def test_the_plugin_in_another_interpreter_and_its_lab_say_which_module(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path, which: str
) -> None:
    python = pythons[which]
    expected = python.standin if which.startswith("caida") else TWIN
    (tmp_path / "test_inner.py").write_text(
        textwrap.dedent(
            f"""
            import scamper

            def test_measures(scamperlab_lab, scamperlab_ctrl):
                assert scamper.__file__ == {str(expected)!r}
                assert sorted(vp.name for vp in scamperlab_ctrl.vps()) == {VPS}
                assert [c.origin for c in scamperlab_lab.imports] == [scamper.__file__]
                assert [c.real for c in scamperlab_lab.imports] == [{which.startswith("caida")}]
                assert [e.kind for e in scamperlab_lab.events].count("import") == 1
            """
        )
    )
    done = subprocess.run(
        [
            str(python.python),
            *("-m", "pytest", "-p", "no:cacheprovider", "--scamperlab-require"),
            f"--scamperlab-topology={TINY}",
            f"--scamperlab-state-dir={state_dir}",
        ],
        env=clean_environ(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    real = "its own scamper module (CAIDA's)" if which.startswith("caida") else "scamperlab's"
    assert f"scamperlab: import scamper gives {real}" in done.stdout


def test_real_forced_without_a_real_module_fails_the_command_clearly(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path
) -> None:
    bare = pythons["bare"]
    done = scamperlab_run(
        state_dir, tmp_path, str(bare.python), "-c", PROBE, SCAMPERLAB_SCAMPER="real"
    )
    assert done.returncode == 1  # the command's own status: the lab itself was fine
    assert f"SCAMPERLAB_SCAMPER=real, but {bare.python} (Python" in said(
        done
    ) and "has no scamper module of its own" in said(done)
    caida = pythons["caida"]
    done = scamperlab_run(
        state_dir, tmp_path, str(caida.python), "-c", PROBE, SCAMPERLAB_SCAMPER="real"
    )
    assert done.stdout.splitlines() == [str(caida.standin), "True"]


def test_scamperlab_forced_gives_the_twin_beside_a_real_module(
    pythons: dict[str, Interpreter], state_dir: Path, tmp_path: Path
) -> None:
    caida = pythons["caida"]
    done = scamperlab_run(
        state_dir,
        tmp_path,
        str(caida.python),
        "-c",
        MEASURE,
        "{mux}",
        SCAMPERLAB_SCAMPER="scamperlab",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [str(TWIN), "False", VPS]
    assert "as SCAMPERLAB_SCAMPER=scamperlab asks" in said(done)


def test_a_bad_mode_builds_no_lab(state_dir: Path, tmp_path: Path) -> None:
    done = scamperlab_run(state_dir, tmp_path, "true", SCAMPERLAB_SCAMPER="caida")
    assert done.returncode == 125
    assert "SCAMPERLAB_SCAMPER='caida': use 'real'" in said(done)
    assert os.listdir(state_dir).count("caida") == 0
