"""Fixtures for integration tests: real namespaces, real sc_remoted, real scamper.

These need root, Mininet's ``mnexec`` and scamper. Where they are missing the
tests are skipped, unless ``SCAMPERLAB_REQUIRE_LAB=1`` (set by ``ci/test.sh``),
where a missing prerequisite is a failure: CI must never pass by skipping.
"""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from scamperlab.lab import Lab
from scamperlab.lab.state import cleanup_stale, is_running, kill_process, list_labs, read_state
from scamperlab.processes.binaries import find_scamper
from scamperlab.scamper.versions import FEATURES

ROOT = Path(__file__).resolve().parents[2]
ARK_MINI = ROOT / "topologies" / "ark-mini.yaml"
TINY = Path(__file__).parent / "topologies" / "tiny.yaml"


def scamper_has(feature: str) -> bool:
    """Whether the installed scamper has ``feature``, named as in scamperlab's
    table of releases (``scamperlab.scamper.versions.FEATURES``)."""
    release = next(f.release for f in FEATURES if f.name == feature)
    version = find_scamper(None).version[:8]
    return not version.isdigit() or int(version) >= release


def _missing() -> str | None:
    if os.geteuid() != 0:
        return "needs root"
    for tool in ("mnexec", "scamper", "sc_remoted", "sc_warts2json"):
        if shutil.which(tool) is None:
            return f"needs {tool}"
    return None


@pytest.fixture(scope="session", autouse=True)
def lab_prerequisites() -> None:
    reason = _missing()
    if reason is None:
        return
    if os.environ.get("SCAMPERLAB_REQUIRE_LAB") == "1":
        pytest.fail(f"integration prerequisites missing: {reason}")
    pytest.skip(reason)


def _remove_labs_left_by_failed_tests(root: Path) -> None:
    """A test that fails midway may leave a daemon running: stop it by its tracked PID."""
    for name in list_labs(root):
        state = read_state(name, root) or {}
        owner, start = state.get("owner_pid"), state.get("owner_starttime")
        if owner is not None and is_running(name, root):
            kill_process(int(owner), start, timeout=30.0)
        cleanup_stale(root / name)


@pytest.fixture(scope="session")
def state_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Labs started by tests keep their state apart from a user's labs."""
    path = Path("/run/scamperlab-tests") / str(os.getpid())
    path.mkdir(parents=True, exist_ok=True)
    yield path  # type: ignore[misc]
    _remove_labs_left_by_failed_tests(path)
    shutil.rmtree(path, ignore_errors=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()


@pytest.fixture(scope="session")
def ark_lab(state_dir: Path) -> Iterator[Lab]:
    """The default topology, up once for every test that only measures."""
    with Lab.from_file(ARK_MINI, name="ark", state_dir=state_dir) as lab:
        yield lab
