"""The real ``sc_remoted``, in the controller namespace, and the VP sockets it makes.

Whatever version is installed is started with ``-U dir`` (one unix socket per
connected VP); a modern one also gets ``-M mux -m metadata`` so that it
serves the mux socket itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from scamperlab.emulation.network import CONTROLLER, EmulatedNetwork
from scamperlab.errors import LabStartError
from scamperlab.processes import terminate
from scamperlab.processes.binaries import ScamperInstall
from scamperlab.processes.liveness import listening
from scamperlab.processes.sockets import VpSocket, scan_vp_sockets

__all__ = ["Remoted", "VpSocket", "scan_vp_sockets"]


@dataclass
class Remoted:
    net: EmulatedNetwork
    install: ScamperInstall
    socket_dir: Path
    log_path: Path
    port: int
    mux_path: Path | None = None
    metadata_path: Path | None = None

    def argv(self) -> list[str]:
        argv = [
            str(self.install.sc_remoted),
            "-P",
            f"{self.net.plan.controller_ipv4}:{self.port}",
            "-U",
            str(self.socket_dir),
            # A restarted VP is a new VP: drop the old one's state at once.
            "-Z",
            "0",
            # Scripts need not run as root to use the mux, as with scamperlab's own.
            "-O",
            "allowother",
        ]
        if self.mux_path is not None:
            argv += ["-M", str(self.mux_path)]
            if self.metadata_path is not None:
                argv += ["-m", str(self.metadata_path)]
        return argv

    def start(self, timeout: float = 10.0) -> int:
        """Start sc_remoted and wait until it accepts VP connections; return its PID."""
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = self.net.popen(CONTROLLER, self.argv(), stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while not listening(self.proc.pid, self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                detail = self.log_path.read_text(errors="replace").strip()[-500:]
                raise LabStartError(f"sc_remoted did not start listening: {detail or 'no output'}")
            time.sleep(0.02)
        if self.mux_path is not None:
            while not self.mux_path.exists():
                if time.monotonic() > deadline:
                    raise LabStartError(f"sc_remoted did not create its mux socket {self.mux_path}")
                time.sleep(0.02)
        return self.proc.pid

    def stop(self) -> None:
        terminate(self.proc, timeout=5.0)
