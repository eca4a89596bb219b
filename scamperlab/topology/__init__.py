"""Topology files and what they describe: model, validation, addressing and routing.

Nothing in this package has side effects; it turns a file into a plan that the
emulation layer realises.

May import: ``scamperlab.wire`` and ``scamperlab.errors`` (the bottom layer), and
pydantic, PyYAML and networkx; ``draw`` also matplotlib (the ``draw`` extra).
Nothing above it: emulation and every higher layer import this package, so it
stays testable without root.
"""

from scamperlab.topology.loader import load_topology, parse_topology
from scamperlab.topology.model import Link, LinkParams, Router, Target, Topology, VantagePoint

__all__ = [
    "Link",
    "LinkParams",
    "Router",
    "Target",
    "Topology",
    "VantagePoint",
    "load_topology",
    "parse_topology",
]
