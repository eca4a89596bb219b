"""What pip installs works without this checkout and without extras (see ci/package_check.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_built_wheel_without_extras_works_and_names_the_extra_a_command_needs() -> None:
    pytest.importorskip("build")
    done = subprocess.run(
        [sys.executable, str(ROOT / "ci" / "package_check.py")],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "registered through the pytest11 entry point" in done.stdout
    assert "scamperlab.scamper imports" in done.stdout
    for extra in ("draw", "audit", "deploy"):
        assert f"scamperlab {extra} without its extra: exit 1" in done.stdout
