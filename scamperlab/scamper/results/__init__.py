"""Result classes of the pure-Python ``scamper`` module: lists, cycles and
every measurement type.  They are views over data produced by
:mod:`scamperlab.wire.warts` (the decoded records' plain data); none can be
instantiated directly."""

from __future__ import annotations

from .common import (
    ScamperCycle,
    ScamperIcmpExt,
    ScamperIcmpExts,
    ScamperIcmpMplsLabelStackEntry,
    ScamperList,
    ScamperResult,
)
from .dealias import ScamperDealias, ScamperDealiasProbe, ScamperDealiasReply
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
from .http import ScamperHttp, ScamperHttpBuf
from .opaque import ScamperNeighbourdisc, ScamperSting
from .owamp import ScamperOwamp, ScamperOwampRx, ScamperOwampSched, ScamperOwampTx
from .ping import ScamperPing, ScamperPingReply, ScamperPingReplyIPTS
from .sniff import ScamperSniff, ScamperSniffPkt
from .tbit import ScamperTbit, ScamperTbitPkt
from .trace import ScamperTrace, ScamperTraceHop, ScamperTracePmtud, ScamperTracePmtudNote
from .tracelb import (
    ScamperTracelb,
    ScamperTracelbLink,
    ScamperTracelbNode,
    ScamperTracelbProbe,
    ScamperTracelbProbeset,
    ScamperTracelbReply,
)
from .udpprobe import ScamperUdpprobe, ScamperUdpprobeProbe, ScamperUdpprobeReply

__all__ = [
    "ScamperCycle",
    "ScamperDealias",
    "ScamperDealiasProbe",
    "ScamperDealiasReply",
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
    "ScamperHttp",
    "ScamperHttpBuf",
    "ScamperIcmpExt",
    "ScamperIcmpExts",
    "ScamperIcmpMplsLabelStackEntry",
    "ScamperList",
    "ScamperNeighbourdisc",
    "ScamperOwamp",
    "ScamperOwampRx",
    "ScamperOwampSched",
    "ScamperOwampTx",
    "ScamperPing",
    "ScamperPingReply",
    "ScamperPingReplyIPTS",
    "ScamperResult",
    "ScamperSniff",
    "ScamperSniffPkt",
    "ScamperSting",
    "ScamperTbit",
    "ScamperTbitPkt",
    "ScamperTrace",
    "ScamperTraceHop",
    "ScamperTracePmtud",
    "ScamperTracePmtudNote",
    "ScamperTracelb",
    "ScamperTracelbLink",
    "ScamperTracelbNode",
    "ScamperTracelbProbe",
    "ScamperTracelbProbeset",
    "ScamperTracelbReply",
    "ScamperUdpprobe",
    "ScamperUdpprobeProbe",
    "ScamperUdpprobeReply",
]
