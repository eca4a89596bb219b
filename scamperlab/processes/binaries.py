"""Finding the scamper installation a lab will run, and what it can do.

The lab runs whatever scamper is installed (Debian's 20211212 by default, a
modern one on PATH or under ``--scamper-prefix``), so features are detected
from the binaries themselves rather than assumed from a version number.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from scamperlab.errors import MissingDependencyError

APT_HINT = "apt-get install scamper"


@dataclass(frozen=True)
class ScamperInstall:
    scamper: Path
    sc_remoted: Path
    version: str
    remoted_has_mux: bool

    @property
    def emits_task_ids(self) -> bool:
        """scamper >= 20230224 tags results with ``id-<n>``; 20211212 does not."""
        return self.version >= "20230224"


def _find(name: str, prefix: Path | None) -> Path | None:
    if prefix is not None:
        for sub in ("bin", "sbin", ""):
            candidate = prefix / sub / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
        return None
    found = shutil.which(name)
    return Path(found) if found else None


def _output(argv: list[str]) -> str:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout + done.stderr


def find_scamper(prefix: str | Path | None = None) -> ScamperInstall:
    """Locate scamper and sc_remoted; raise with an install hint when either is missing."""
    where = Path(prefix) if prefix is not None else None
    hint = f"no such file under {where}" if where else f"install it: {APT_HINT}"
    scamper = _find("scamper", where)
    remoted = _find("sc_remoted", where)
    if scamper is None or remoted is None:
        missing = "scamper" if scamper is None else "sc_remoted"
        raise MissingDependencyError(f"{missing} not found ({hint}, or pass --scamper-prefix DIR)")
    match = re.search(r"version (\S+)", _output([str(scamper), "-v"]))
    if match is None:
        raise MissingDependencyError(f"{scamper} -v did not print a scamper version")
    usage = _output([str(remoted), "-?"])
    return ScamperInstall(
        scamper=scamper,
        sc_remoted=remoted,
        version=match.group(1),
        remoted_has_mux=bool(re.search(r"-M\b", usage)),
    )


def check_host_tools() -> None:
    """The lab needs root and Mininet's ``mnexec``; say how to get them if absent."""
    if os.geteuid() != 0:
        raise MissingDependencyError(
            "scamperlab needs root to create network namespaces: run it with sudo"
        )
    for tool, package in (("mnexec", "mininet"), ("ip", "iproute2"), ("tc", "iproute2")):
        if shutil.which(tool) is None:
            raise MissingDependencyError(f"{tool} not found: apt-get install {package}")
