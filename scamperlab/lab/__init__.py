"""A lab: a topology brought to life on this machine, and everything about its life.

Layer 3 of scamperlab (see ``docs/architecture.md``): it may import
:mod:`scamperlab.shim`, :mod:`scamperlab.mux`, :mod:`scamperlab.processes`,
:mod:`scamperlab.emulation`, :mod:`scamperlab.topology`, :mod:`scamperlab.wire`
and :mod:`scamperlab.errors`; never ``scamper``, ``audit``, ``deploy``,
``inventory``, the CLI or the pytest plugin.

- :mod:`~scamperlab.lab.core`: :class:`Lab`, the orchestrator, and the
  parts of a running lab;
- :mod:`~scamperlab.lab.lifecycle`: up (detached), down, and running a
  command against a lab, shared by the CLI, the pytest plugin and scripts;
- :mod:`~scamperlab.lab.state`: the state directory, ownership by PID and
  start time, stale cleanup;
- :mod:`~scamperlab.lab.status`: what a lab writes about itself and
  ``status`` reads;
- :mod:`~scamperlab.lab.presence`: which VPs are on the mux;
- :mod:`~scamperlab.lab.sshd`: the lab's "Ark controller" host;
- :mod:`~scamperlab.lab.loopthread`, :mod:`~scamperlab.lab.owner`: the lab's
  event-loop thread, and the signal and file-limit settings of its process;
- :mod:`~scamperlab.lab.views`: the nodes and events a script sees;
- :mod:`~scamperlab.lab.ui`: how lab commands talk to a person (rich).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from scamperlab.lab.core import Lab
    from scamperlab.lab.lifecycle import lab_environment
    from scamperlab.lab.views import LabEvent, LabNode, LabVp

# Imported on first use: ``scamperlab status`` reads the state directory and
# must not pay for the namespaces, the mux and pydantic models it will not use.
_WHERE = {
    "Lab": "core",
    "LabEvent": "views",
    "LabNode": "views",
    "LabVp": "views",
    "lab_environment": "lifecycle",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"scamperlab.lab.{_WHERE[name]}"), name)
    raise AttributeError(f"module 'scamperlab.lab' has no attribute {name!r}")


__all__ = ["Lab", "LabEvent", "LabNode", "LabVp", "lab_environment"]
