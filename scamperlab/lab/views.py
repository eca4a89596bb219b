"""What a script sees of a lab: its nodes with their addresses, and what happened to it.

Plain frozen values, so they can be handed out freely (and survive the lab).
"""

from __future__ import annotations

from dataclasses import dataclass

from scamperlab.topology.model import VantagePoint


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


@dataclass(frozen=True)
class LabEvent:
    """Something that happened to a running lab (a VP died, stale state was cleaned...)."""

    time: float
    kind: str
    vp: str
    message: str
