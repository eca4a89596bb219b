"""Topology files and what they describe: model, validation, addressing and routing.

Nothing in this package has side effects; it turns a file into a plan that the
emulation layer realises.
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
