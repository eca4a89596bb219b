"""What pip installs works without this checkout (see ci/package_check.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_built_wheel_installs_imports_and_registers_the_pytest_plugin() -> None:
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
