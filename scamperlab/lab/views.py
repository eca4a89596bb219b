"""What a script sees of a lab: its nodes with their addresses, and what happened to it.

Plain frozen values, so they can be handed out freely (and survive the lab).
"""

from __future__ import annotations

from dataclasses import dataclass

from scamperlab.topology.model import Topology, VantagePoint
from scamperlab.topology.plan import LabPlan


@dataclass(frozen=True)
class LabNode:
    """A node of a lab, with the addresses a script would aim at."""

    name: str
    kind: str
    ipv4: str
    ipv6: str


@dataclass(frozen=True)
class LabVp(LabNode):
    """A VP, with its topology entry (``cc``, ``place``, ``tags``...) as ``metadata``."""

    metadata: VantagePoint


def nodes_of(plan: LabPlan, kind: str) -> list[LabNode]:
    """The plan's nodes of ``kind`` ("target", "router"), in the plan's order."""
    return [
        LabNode(n.name, n.kind, str(n.ipv4), str(n.ipv6))
        for n in plan.nodes.values()
        if n.kind == kind
    ]


def vps_of(topology: Topology, plan: LabPlan) -> list[LabVp]:
    """The plan's VPs, each with its topology entry: what ``Lab.vps`` gives, lab or not
    (a replay builds them from the topology its recording was made in)."""
    meta = {vp.name: vp for vp in topology.vps}
    return [
        LabVp(n.name, n.kind, str(n.ipv4), str(n.ipv6), meta[n.name])
        for n in plan.nodes.values()
        if n.kind == "vp"
    ]


@dataclass(frozen=True)
class LabEvent:
    """Something that happened to a running lab (a VP died, stale state was cleaned...)."""

    time: float
    kind: str
    vp: str
    message: str
