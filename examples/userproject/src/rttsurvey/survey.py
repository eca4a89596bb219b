"""Ping a target from VPs through the mux and keep each VP's best RTT.

Written against CAIDA's ``scamper`` module only: on Ark it runs with the
real module, in tests with whatever ``scamper`` the machine has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from scamper import ScamperCtrl


@dataclass
class Survey:
    target: str
    rtt_ms: dict[str, float | None] = field(default_factory=dict)  # VP name -> best RTT
    errors: list[str] = field(default_factory=list)

    @property
    def unanswered(self) -> list[str]:
        return sorted(name for name, rtt in self.rtt_ms.items() if rtt is None)


def survey(ctrl: ScamperCtrl, target: str, attempts: int = 3, timeout: float = 15.0) -> Survey:
    """Ping ``target`` from every VP on the mux at once.

    A VP that stays silent or goes away mid-survey is reported, never waited
    for: results are collected with a timeout, as on Ark where VPs come and go.
    """
    result = Survey(target)
    for inst in ctrl.add_vps(ctrl.vps()):
        result.rtt_ms[inst.name] = None
        ctrl.do_ping(target, attempts=attempts, inst=inst)
    for ping in ctrl.responses(timeout=timedelta(seconds=timeout)):
        if ping.min_rtt is not None:
            result.rtt_ms[ping.inst.name] = ping.min_rtt.total_seconds() * 1000
    result.errors = [str(exc) for exc in ctrl.exceptions()]
    return result


def closest(result: Survey) -> str | None:
    answered = {name: rtt for name, rtt in result.rtt_ms.items() if rtt is not None}
    return min(answered, key=lambda name: answered[name]) if answered else None


def ping_from(ctrl: ScamperCtrl, vp_name: str, target: str, attempts: int = 1) -> float | None:
    """A synchronous ping from one VP; raises ``ScamperInstError`` if the VP goes away."""
    vps = [vp for vp in ctrl.vps() if vp.name == vp_name]
    if not vps:
        raise LookupError(f"no VP named {vp_name} on the mux")
    (inst,) = ctrl.add_vps(vps)
    ping = ctrl.do_ping(target, attempts=attempts, inst=inst, sync=True)
    return None if ping.min_rtt is None else ping.min_rtt.total_seconds() * 1000
