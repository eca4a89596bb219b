"""``scamperlab wheelhouse DIR``: scamperlab and what it needs, as wheels for another machine.

Lab hosts provisioned by Ansible (``playbooks/roles/scamperlab_host``) install
scamperlab into a virtual environment from these wheels alone (``pip install
--no-index``): a host needs no way to the package registry, and every host
runs exactly the scamperlab of the control node, not whatever a registry
serves that day. The host's machine and Python may differ from the control
node's (a Raspberry Pi's aarch64 beside an x86_64 laptop), so the compiled
dependencies (pydantic-core, PyYAML) are downloaded for the host's platform
by pip's own cross-platform download rather than built here. pip does all
the work; this module only chooses its arguments.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from scamperlab.errors import ScamperlabError

__all__ = ["SOURCE", "build_wheelhouse", "manylinux_platforms"]

#: the checkout (or installed tree) this scamperlab was imported from
SOURCE = Path(__file__).resolve().parents[2]

# The glibc baselines PyPI's Linux wheels are tagged with, oldest first; Debian
# bookworm and Raspberry Pi OS have glibc 2.36, so every one of them installs.
_MANYLINUX = ("manylinux2014", "manylinux_2_17", "manylinux_2_28")
# Machines for which PyPI has wheels of every compiled dependency. Not armv7l:
# PyPI has no 32-bit ARM wheels of PyYAML, so a 32-bit Raspberry Pi OS is out
# (its 64-bit edition is aarch64).
_ARCHES = {"x86_64", "aarch64"}


def manylinux_platforms(arch: str) -> list[str]:
    """pip ``--platform`` tags for a host whose ``uname -m`` (Ansible's architecture) is
    ``arch``."""
    arch = {"arm64": "aarch64", "amd64": "x86_64"}.get(arch, arch)
    if arch not in _ARCHES:
        known = ", ".join(sorted(_ARCHES))
        raise ScamperlabError(f"no wheels for machine {arch!r}: PyPI has them for {known}")
    return [f"{base}_{arch}" for base in _MANYLINUX]


def _pip(*args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        detail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-8:])
        raise ScamperlabError(f"pip {args[0]} failed (it needs the package registry):\n{detail}")


def build_wheelhouse(dest: Path, arch: str, python: str, source: Path = SOURCE) -> list[Path]:
    """Write scamperlab's wheel and its dependencies' wheels for ``arch``/``python`` into ``dest``.

    Wheels of an older scamperlab in ``dest`` are removed first, so the
    directory always names one version and hosts install that one.
    """
    if not re.fullmatch(r"3\.\d{1,2}", python):
        raise ScamperlabError(f"--python must be a version like 3.11, not {python!r}")
    if not (source / "pyproject.toml").is_file():
        raise ScamperlabError(
            f"{source} is not a scamperlab source tree (no pyproject.toml): the wheelhouse"
            " is built from a checkout (python -m scamperlab.cli wheelhouse, run in one)"
        )
    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("scamperlab-*.whl"):
        old.unlink()
    _pip("wheel", "--quiet", "--no-deps", "--wheel-dir", str(dest), str(source))
    (wheel,) = dest.glob("scamperlab-*.whl")
    platforms = [arg for tag in manylinux_platforms(arch) for arg in ("--platform", tag)]
    _pip(
        "download",
        "--quiet",
        "--only-binary=:all:",
        *platforms,
        "--python-version",
        python,
        "--implementation",
        "cp",
        "--dest",
        str(dest),
        str(wheel),
    )
    return sorted(dest.glob("*.whl"))
