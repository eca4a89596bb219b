"""Decoded traceroute data: what a warts trace record holds.

Filled by :mod:`..warts.trace`; viewed by :mod:`.trace`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..addr import ScamperAddr
from ._util import Timeval
from .common import ScamperCycle, ScamperList

__all__ = ["DtreeData", "PmtudData", "PmtudNoteData", "TraceData", "TraceHopData", "hop_is_icmp_q"]


@dataclass
class TraceHopData:
    """One probe/response pair as stored in warts."""

    addr: ScamperAddr | None = None
    probe_ttl: int = 0
    reply_ttl: int = 0
    flags: int = 0
    probe_id: int = 0  # attempt number, counting from 1
    rtt: int = 0  # microseconds
    icmp_type: int = 0
    icmp_code: int = 0
    probe_size: int = 0
    reply_size: int = 0
    reply_ipid: int = 0
    reply_tos: int = 0
    icmp_nhmtu: int = 0
    icmp_q_ipl: int = 0
    icmp_q_ttl: int = 0
    tcp_flags: int = 0
    icmp_q_tos: int = 0
    icmpext: list[tuple[int, int, bytes]] | None = None
    tx: Timeval | None = None
    name: str | None = None
    # written only by releases newer than any we have samples of
    probe_ipid: int | None = None
    icmp_q_ipid: int | None = None


@dataclass
class PmtudNoteData:
    type: int = 0
    nhmtu: int = 0
    hop: TraceHopData | None = None


@dataclass
class PmtudData:
    ifmtu: int = 0
    pmtu: int = 0
    outmtu: int = 0
    ver: int = 1
    notec: int = 0
    hops: list[TraceHopData] = field(default_factory=list)
    notes: list[PmtudNoteData] = field(default_factory=list)


@dataclass
class DtreeData:
    lss_stop: ScamperAddr | None = None
    gss_stop: ScamperAddr | None = None
    firsthop: int = 0
    lss: str | None = None
    flags: int = 0


@dataclass
class TraceData:
    """A traceroute as stored in warts."""

    list_: ScamperList | None = None
    cycle: ScamperCycle | None = None
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    rtr: ScamperAddr | None = None
    start: Timeval | None = None
    stop_reason: int = 0
    stop_data: int = 0
    flags8: int = 0
    attempts: int = 0
    hoplimit: int = 0
    type: int = 0
    probe_size: int = 0
    sport: int = 0
    dport: int = 0
    firsthop: int = 0
    tos: int = 0
    wait: int = 0  # seconds
    loops: int = 0
    hop_count: int = 0
    gaplimit: int = 0
    gapaction: int = 0
    loopaction: int = 0
    probec: int = 0
    wait_probe: int = 0  # hundredths of a second
    confidence: int = 0
    userid: int = 0
    offset: int = 0
    squeries: int = 0
    flags: int = 0
    stop_hop: int = 0
    payload: bytes | None = None
    hops: list[TraceHopData] = field(default_factory=list)
    pmtud: PmtudData | None = None
    lastditch: list[TraceHopData] = field(default_factory=list)
    dtree: DtreeData | None = None


HOP_FLAG_TCP, HOP_FLAG_UDP = 0x20, 0x40


def hop_is_icmp_q(h: TraceHopData) -> bool:
    if h.flags & (HOP_FLAG_TCP | HOP_FLAG_UDP) or h.addr is None:
        return False
    if h.addr.is_ipv4():
        return h.icmp_type in (3, 11)
    return 1 <= h.icmp_type <= 3
