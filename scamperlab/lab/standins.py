"""The lab's side of stand-ins: what the mux needs to act for each VP, and what is said.

The mux (:mod:`scamperlab.mux.standin`) performs what a VP's scamper lacks,
from the VP's namespace and addresses, at its rate, with its resolver: this
module gives it those from the lab's plan and running network. It also
words what ``up``, ``status`` and the lab's events say, so that a result
from a stand-in is never a surprise.
"""

from __future__ import annotations

from typing import Any

from scamperlab.emulation.network import EmulatedNetwork
from scamperlab.emulation.services import LabServices
from scamperlab.mux.standin.probers import offered
from scamperlab.mux.standin.vp import StandinVp, StandinVps
from scamperlab.topology.model import Topology
from scamperlab.topology.plan import LabPlan

__all__ = ["lab_standins", "standins_info", "standins_summary"]


def lab_standins(
    topology: Topology, plan: LabPlan, net: EmulatedNetwork, services: LabServices
) -> StandinVps:
    """Every VP of the lab as stand-ins see it (looked up when a channel first opens,
    once the VP's namespace exists)."""
    vps = {vp.name: vp for vp in topology.vps}

    def describe(name: str) -> StandinVp | None:
        vp = vps.get(name)
        if vp is None:
            return None
        node = plan.nodes[name]
        return StandinVp(
            name,
            net.pid(name),
            str(node.ipv4),
            str(node.ipv6),
            topology.vp_rate(vp),
            services.resolv_conf_path(name),
        )

    return StandinVps(describe)


def standins_info(version: str, enabled: bool, possible: bool) -> dict[str, Any]:
    """What ``state.json`` (and so ``status``) records: on or off, and what they give
    every VP (all VPs of a lab run the same scamper). ``possible``: scamperlab's mux
    serves the VPs and rewrites their channels (a release without task ids)."""
    gives = offered(version) if possible else []
    return {"enabled": enabled and bool(gives), "gives": gives, "scamper_version": version}


def standins_summary(info: dict[str, Any]) -> str | None:
    """One sentence for ``up``, ``status`` and the events; None when there is nothing to say."""
    gives: list[str] = info.get("gives", [])
    if not gives:
        return None
    version = info.get("scamper_version")
    if info.get("enabled"):
        return (
            f"stand-ins: every VP's scamper {version} lacks these, so the lab performs them"
            f" from the VP's namespace: {'; '.join(gives)}"
        )
    return f"stand-ins off: commands needing these are refused ({version} lacks them): " + (
        "; ".join(gives)
    )
