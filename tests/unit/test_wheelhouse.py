"""The wheelhouse's choice of pip arguments (the build itself runs in tests/playbooks)."""

from __future__ import annotations

from pathlib import Path

import pytest

from scamperlab.deploy.wheelhouse import build_wheelhouse, manylinux_platforms
from scamperlab.errors import ScamperlabError


def test_platform_tags_follow_the_hosts_machine() -> None:
    assert manylinux_platforms("aarch64") == [
        "manylinux2014_aarch64",
        "manylinux_2_17_aarch64",
        "manylinux_2_28_aarch64",
    ]
    # what other tools print for the same machines
    assert manylinux_platforms("arm64") == manylinux_platforms("aarch64")
    assert manylinux_platforms("amd64") == manylinux_platforms("x86_64")


def test_a_machine_without_wheels_is_refused_by_name() -> None:
    with pytest.raises(ScamperlabError, match=r"'armv7l'.*aarch64, x86_64"):
        manylinux_platforms("armv7l")


def test_bad_python_and_source_are_refused_before_pip(tmp_path: Path) -> None:
    with pytest.raises(ScamperlabError, match=r"like 3\.11"):
        build_wheelhouse(tmp_path / "w", "x86_64", "python3")
    with pytest.raises(ScamperlabError, match="not a scamperlab source tree"):
        build_wheelhouse(tmp_path / "w", "x86_64", "3.11", source=tmp_path)
    assert not (tmp_path / "w").exists()
