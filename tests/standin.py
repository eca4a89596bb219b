"""Other interpreters for the shim's tests: one with a stand-in for CAIDA's module, one without.

CAIDA's ``python3-scamper`` cannot be installed on this machine, so the tests
make what matters about it: another Python (a venv, with its own
interpreter and site-packages) in which a package named ``scamper`` is
installed. It carries a marker (``STANDIN``) and re-exports
scamperlab's module, so that a ``ScamperCtrl`` made from it measures in a lab
like the real one. With ``scamperlab_env`` the venv also sees this checkout's
environment (pytest, the plugin, scamperlab), *after* its own site-packages,
as a venv made with ``--system-site-packages`` sees the system's.
"""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from dataclasses import dataclass
from pathlib import Path

from scamperlab.shim import LOG_VAR, MODE_VAR

STANDIN_INIT = '''"""A stand-in for CAIDA's scamper module, for scamperlab's tests only."""

STANDIN = True

from scamperlab.scamper import *  # noqa: E402,F403
'''

#: What a test's command prints: the module's file, and whether it is the stand-in.
PROBE = "import scamper; print(scamper.__file__); print(getattr(scamper, 'STANDIN', False))"


@dataclass(frozen=True)
class Interpreter:
    python: Path
    site: Path

    @property
    def standin(self) -> Path:
        return self.site / "scamper" / "__init__.py"


def make_interpreter(where: Path, *, standin: bool, scamperlab_env: bool = False) -> Interpreter:
    """A venv at ``where``: with the stand-in module in its site-packages, or without."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True)
    python = where / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    if standin:
        (site / "scamper").mkdir()
        (site / "scamper" / "__init__.py").write_text(STANDIN_INIT)
    if scamperlab_env:
        ours = sysconfig.get_path("purelib")
        # addsitedir, not a bare path: the checkout's editable install is a .pth file there.
        (site / "zz_scamperlab_env.pth").write_text(f"import site; site.addsitedir({ours!r})\n")
    return Interpreter(python, site)


def clean_environ(**extra: str) -> dict[str, str]:
    """Our environment without anything that would decide ``import scamper`` beforehand."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", MODE_VAR, LOG_VAR)}
    env.update(extra)
    return env
