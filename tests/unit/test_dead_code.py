"""Dead code: vulture passes, can fail, and its list of CAIDA's API names is current."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
VULTURE = Path(sys.executable).with_name("vulture")


def _make_vulture_api() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_vulture_api", ROOT / "ci" / "make_vulture_api.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def vulture(cwd: Path) -> subprocess.CompletedProcess[str]:
    """vulture with the paths and whitelists of ``cwd``'s pyproject.toml."""
    if not VULTURE.exists():
        pytest.skip("vulture is not installed (pip install -e '.[dev]')")
    return subprocess.run(
        [str(VULTURE)], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_caida_api_whitelist_is_made_from_the_shipped_inventory() -> None:
    made = _make_vulture_api().render()
    assert (ROOT / "ci" / "vulture_caida_api.py").read_text() == made, (
        "ci/vulture_caida_api.py is stale: python ci/make_vulture_api.py"
    )


def test_no_dead_code() -> None:
    done = vulture(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


def test_dead_code_fails_the_check(tmp_path: Path) -> None:
    for part in ("scamperlab", "tests", "benchmarks", "examples", "ci"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    assert vulture(tmp_path).returncode == 0  # the copy passes as it is
    dead = tmp_path / "scamperlab" / "topology" / "units.py"
    dead.write_text(dead.read_text() + "\n\ndef never_called() -> None:\n    pass\n")
    done = vulture(tmp_path)
    assert done.returncode != 0 and "unused function 'never_called'" in done.stdout, done.stdout
