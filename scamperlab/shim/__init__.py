"""Making ``import scamper`` work: CAIDA's module if installed, else scamperlab's.

The shim directory holds a package named ``scamper`` that re-exports
:mod:`scamperlab.scamper`. It goes on the path only where the real module is
not importable, so a script runs unchanged against the lab and on Ark.

May import: ``scamperlab.scamper`` (what it re-exports) and the layers below
it. Never the lab, the tools or the CLI, which import it.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

SHIM_DIR = Path(__file__).resolve().parent


def real_scamper_available(python: str | None = None) -> bool:
    """Whether ``import scamper`` finds a module that is not this shim."""
    if python is None or python == sys.executable:
        spec = importlib.util.find_spec("scamper")
        return (
            spec is not None
            and spec.origin is not None
            and SHIM_DIR not in Path(spec.origin).parents
        )
    probe = (
        "import importlib.util as u, sys; s = u.find_spec('scamper'); print(s.origin if s else '')"
    )
    try:
        out = subprocess.run(
            [python, "-c", probe], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError:
        return False
    origin = out.stdout.strip()
    return bool(origin) and str(SHIM_DIR) not in origin


def environment(env: dict[str, str] | None = None, python: str | None = None) -> dict[str, str]:
    """``env`` with the shim first on PYTHONPATH, unless a real module is available."""
    env = dict(os.environ if env is None else env)
    if real_scamper_available(python):
        return env
    parts = [str(SHIM_DIR)]
    # The shim imports scamperlab, which must be importable by the child too.
    parts.append(str(SHIM_DIR.parent.parent))
    if env.get("PYTHONPATH"):
        parts.append(env["PYTHONPATH"])
    env["PYTHONPATH"] = os.pathsep.join(parts)
    return env


def which_implementation() -> str:
    """A line for ``scamperlab doctor``."""
    if real_scamper_available():
        spec = importlib.util.find_spec("scamper")
        return f"CAIDA's scamper module ({spec.origin if spec else '?'})"
    return "scamperlab's pure-Python scamper module (no CAIDA module installed)"
