"""Result classes of the pure-Python ``scamper`` module (lists, cycles,
ping, trace, host).  They are views over data produced by
:mod:`scamperlab.scamper.warts`; none can be instantiated directly."""

from __future__ import annotations

from .common import (
    ScamperCycle,
    ScamperIcmpExt,
    ScamperIcmpExts,
    ScamperIcmpMplsLabelStackEntry,
    ScamperList,
    ScamperResult,
)
from .host import (
    ScamperHost,
    ScamperHostMX,
    ScamperHostOPT,
    ScamperHostOPTElem,
    ScamperHostQuery,
    ScamperHostRR,
    ScamperHostSOA,
    ScamperHostSVCB,
    ScamperHostSVCBParam,
    ScamperHostTXT,
)
from .ping import ScamperPing, ScamperPingReply, ScamperPingReplyIPTS
from .trace import ScamperTrace, ScamperTraceHop, ScamperTracePmtud, ScamperTracePmtudNote

__all__ = [
    "ScamperCycle",
    "ScamperHost",
    "ScamperHostMX",
    "ScamperHostOPT",
    "ScamperHostOPTElem",
    "ScamperHostQuery",
    "ScamperHostRR",
    "ScamperHostSOA",
    "ScamperHostSVCB",
    "ScamperHostSVCBParam",
    "ScamperHostTXT",
    "ScamperIcmpExt",
    "ScamperIcmpExts",
    "ScamperIcmpMplsLabelStackEntry",
    "ScamperList",
    "ScamperPing",
    "ScamperPingReply",
    "ScamperPingReplyIPTS",
    "ScamperResult",
    "ScamperTrace",
    "ScamperTraceHop",
    "ScamperTracePmtud",
    "ScamperTracePmtudNote",
]
