"""The real scamper programs of a lab: sc_remoted, one scamper per VP, their supervision.

May import: ``scamperlab.emulation`` (the namespaces they run in),
``scamperlab.topology``, ``scamperlab.wire`` and ``scamperlab.errors``. Never the mux,
the scamper client or the lab above it.
"""

from __future__ import annotations

import subprocess


def terminate(proc: subprocess.Popen[bytes], timeout: float = 3.0) -> None:
    """SIGTERM a child we started, SIGKILL it if it lingers, and reap it."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
