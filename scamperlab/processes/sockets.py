"""The per-VP sockets of ``sc_remoted -U``, read from the directory alone.

Kept apart from :mod:`scamperlab.processes.remoted` (which needs Mininet) so
that the standalone mux on a real controller can use it with nothing but
the standard library.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class VpSocket:
    """One per-VP socket of ``sc_remoted -U``: ``<monitor>-<addr>:<port>``."""

    monitor: str | None
    address: str
    port: int
    path: Path

    @classmethod
    def parse(cls, path: Path) -> VpSocket | None:
        name = path.name
        monitor: str | None
        if "-" in name:
            monitor, _, endpoint = name.rpartition("-")
        else:
            monitor, endpoint = None, name
        # IPv4 is addr:port, IPv6 is addr.port (the address has colons of its own).
        sep = ":" if endpoint.count(":") == 1 else "."
        address, _, port = endpoint.rpartition(sep)
        if not address or not port.isdigit():
            return None
        return cls(monitor or None, address, int(port), path)


def scan_vp_sockets(directory: Path) -> list[VpSocket]:
    """The per-VP sockets sc_remoted has right now.

    One monitor name can have two for a while: a VP that vanished without
    closing its TCP connection keeps its socket until sc_remoted times it out,
    while its restarted scamper already has a new one.
    """
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return []
    found = (VpSocket.parse(Path(entry.path)) for entry in entries)
    return [sock for sock in found if sock is not None and sock.monitor is not None]
