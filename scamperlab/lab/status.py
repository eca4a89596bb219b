"""A lab's status: the rows a running lab writes to ``state.json``, and what ``status`` reads.

The writer is the lab (after every VP change, from the loop thread and the
main thread alike); the readers are ``scamperlab status``, the pytest plugin
and anyone with the state directory, who must never disturb a running lab:
they only read the file and test the lock.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scamperlab.lab.state import LabState, check_lab_name, is_running, list_labs, read_state
from scamperlab.lab.views import LabNode, LabVp
from scamperlab.processes.vantage import VpSupervisor


def vp_rows(vps: Sequence[LabVp], supervisor: VpSupervisor | None) -> list[dict[str, Any]]:
    """One row per VP, as ``status`` shows it (``supervisor`` None: the lab is not running)."""
    rows = []
    for vp in vps:
        proc = supervisor.vps.get(vp.name) if supervisor is not None else None
        rows.append(
            {
                "name": vp.name,
                "state": proc.state if proc else "stopped",
                "pid": proc.pid if proc else None,
                "ipv4": vp.ipv4,
                "ipv6": vp.ipv6,
                "restarts": proc.restarts if proc else 0,
                "up_since": proc.up_since if proc else None,
                "problem": proc.last_problem if proc else None,
                "cc": vp.metadata.cc,
                "place": vp.metadata.place,
                "asn4": vp.metadata.asn4,
                "tags": vp.metadata.tags,
            }
        )
    return rows


class StatusWriter:
    """Writes a lab's VP and target rows into its state, one writer at a time."""

    def __init__(self, state: LabState) -> None:
        self.state = state
        self._lock = threading.Lock()

    def save(self, vps: list[dict[str, Any]], targets: Sequence[LabNode]) -> None:
        with self._lock:
            self.state.info["vps"] = vps
            self.state.info["targets"] = [t.__dict__ for t in targets]
            self.state.save()


def lab_status(name: str, root: Path | None = None) -> dict[str, Any] | None:
    """A lab's ``state.json`` plus ``"running"`` (its owner holds the lock), or None."""
    state = read_state(check_lab_name(name), root)
    if state is None:
        return None
    return dict(state, running=is_running(name, root))


def all_status(root: Path | None = None) -> list[dict[str, Any]]:
    """:func:`lab_status` of every lab in the state directory, running or stale."""
    found = (lab_status(name, root) for name in list_labs(root))
    return [status for status in found if status is not None]
