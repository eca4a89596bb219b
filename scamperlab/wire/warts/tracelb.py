"""Warts MDA traceroute records (type 8), both directions.

Layout: tracelb flags/params; ``nodec`` node blocks; ``linkc`` link blocks.
A link block is its flags/params (near and far node indexes, hop count)
followed by ``hopc`` probesets, each a flags/params block (probe count)
and that many probes, each a probe block followed by its reply blocks.
After reading, every link is attached to its near node, in link order;
scamper rejects a record whose per-node link counts disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsFormatError
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .trace import icmpext, write_icmpext
from .writer import Writer, present_ids, register, with_modern

__all__ = [
    "METHOD_NAMES",
    "TracelbData",
    "TracelbLinkData",
    "TracelbNodeData",
    "TracelbProbeData",
    "TracelbProbesetData",
    "TracelbReplyData",
    "decode_tracelb",
    "encode_tracelb",
]

# Probe methods (the ``type`` field), in scamper's numbering, and its words for them.
M_UDP_DPORT, M_ICMP_ECHO, M_UDP_SPORT, M_TCP_SPORT, M_TCP_ACK_SPORT = 1, 2, 3, 4, 5
METHOD_NAMES = {
    M_UDP_DPORT: "udp-dport",
    M_ICMP_ECHO: "icmp-echo",
    M_UDP_SPORT: "udp-sport",
    M_TCP_SPORT: "tcp-sport",
    M_TCP_ACK_SPORT: "tcp-ack-sport",
}

NODE_FLAG_QTTL = 0x01
REPLY_FLAG_REPLY_TTL, REPLY_FLAG_TCP = 0x01, 0x02


@dataclass
class TracelbReplyData:
    addr: ScamperAddr | None = None
    rx: Timeval | None = None
    ipid: int = 0
    ttl: int = 0
    flags: int = 0
    icmp_type: int = 0
    icmp_code: int = 0
    tcp_flags: int = 0
    icmpext: list[tuple[int, int, bytes]] | None = None
    q_ttl: int = 0
    q_tos: int = 0

    @property
    def _icmp_tc(self) -> tuple[int, int]:
        """ICMP type and code, stored as one field in warts."""
        return self.icmp_type, self.icmp_code

    @_icmp_tc.setter
    def _icmp_tc(self, v: tuple[int, int]) -> None:
        self.icmp_type, self.icmp_code = v

    def is_tcp(self) -> bool:
        return bool(self.flags & REPLY_FLAG_TCP)

    def is_icmp_q(self) -> bool:
        """An ICMP time-exceeded or unreachable, which quotes the probe."""
        if self.is_tcp() or self.addr is None:
            return False
        if self.addr.is_ipv4():
            return self.icmp_type in (3, 11)
        return self.icmp_type in (1, 3)


@dataclass
class TracelbProbeData:
    tx: Timeval | None = None
    flowid: int = 0
    ttl: int = 0
    attempt: int = 0  # from zero, as stored
    rxc: int = 0
    replies: list[TracelbReplyData] = field(default_factory=list)


@dataclass
class TracelbProbesetData:
    probec: int = 0
    probes: list[TracelbProbeData] = field(default_factory=list)


@dataclass
class TracelbLinkData:
    near: int = 0  # node indexes
    far: int | None = None
    hopc: int = 0
    sets: list[TracelbProbesetData] = field(default_factory=list)


@dataclass
class TracelbNodeData:
    addr: ScamperAddr | None = None
    flags: int = 0
    linkc: int = 0
    q_ttl: int = 0
    name: str | None = None
    links: list[int] = field(default_factory=list)  # link indexes


@dataclass
class TracelbData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    rtr: ScamperAddr | None = None
    start: Timeval | None = None
    sport: int = 0
    dport: int = 0
    probe_size: int = 0
    type: int = 0
    firsthop: int = 0
    wait_timeout: int = 0  # seconds
    wait_probe: int = 0  # hundredths of a second
    attempts: int = 0
    confidence: int = 0
    tos: int = 0
    nodec: int = 0
    linkc: int = 0
    probec: int = 0
    probec_max: int = 0
    gaplimit: int = 0
    userid: int = 0
    flags: int = 0
    nodes: list[TracelbNodeData] = field(default_factory=list)
    links: list[TracelbLinkData] = field(default_factory=list)

    def is_udp(self) -> bool:
        return self.type in (M_UDP_DPORT, M_UDP_SPORT)

    def is_tcp(self) -> bool:
        return self.type in (M_TCP_SPORT, M_TCP_ACK_SPORT)


def _icmp_tc(r: Reader) -> tuple[int, int]:
    return r.u8(), r.u8()


@register(_icmp_tc)
def _w_icmp_tc(w: Writer, v: tuple[int, int]) -> None:
    w.u8(v[0])
    w.u8(v[1])


_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),  # 1
    ("cycle", R.cycle_ref),  # 2
    ("src", R.addr_gid),  # 3 deprecated
    ("dst", R.addr_gid),  # 4 deprecated
    ("start", R.timeval),  # 5
    ("sport", R.u16),  # 6
    ("dport", R.u16),  # 7
    ("probe_size", R.u16),  # 8
    ("type", R.u8),  # 9
    ("firsthop", R.u8),  # 10
    ("wait_timeout", R.u8),  # 11
    ("wait_probe", R.u8),  # 12
    ("attempts", R.u8),  # 13
    ("confidence", R.u8),  # 14
    ("tos", R.u8),  # 15
    ("nodec", R.u16),  # 16
    ("linkc", R.u16),  # 17
    ("probec", R.u32),  # 18
    ("probec_max", R.u32),  # 19
    ("gaplimit", R.u8),  # 20
    ("src", R.addr),  # 21
    ("dst", R.addr),  # 22
    ("userid", R.u32),  # 23
    ("flags", R.u8),  # 24
    ("rtr", R.addr_static),  # 25
)
_NODE_FIELDS: Sequence[Field | None] = (
    ("addr", R.addr_gid),  # 1 deprecated
    ("flags", R.u8),
    ("linkc", R.u16),
    ("q_ttl", R.u8),
    ("addr", R.addr),  # 5
    ("name", R.string),
)
_LINK_FIELDS: Sequence[Field | None] = (("near", R.u16), ("far", R.u16), ("hopc", R.u8))
_PROBE_FIELDS: Sequence[Field | None] = (
    ("tx", R.timeval),
    ("flowid", R.u16),
    ("ttl", R.u8),
    ("attempt", R.u8),
    ("rxc", R.u16),
)
_REPLY_FIELDS: Sequence[Field | None] = (
    ("rx", R.timeval),
    ("ipid", R.u16),
    ("ttl", R.u8),
    ("flags", R.u8),
    ("_icmp_tc", _icmp_tc),
    ("tcp_flags", R.u8),
    ("icmpext", icmpext),
    ("q_ttl", R.u8),
    ("q_tos", R.u8),
    ("addr", R.addr_gid),  # 10 deprecated
    ("addr", R.addr),  # 11
)
_PROBESET_FIELDS: Sequence[Field | None] = (("probec", R.u16),)


def _read_probe(r: Reader) -> TracelbProbeData:
    p = TracelbProbeData()
    r.params(_PROBE_FIELDS, p)
    for _ in range(p.rxc):
        rep = TracelbReplyData()
        r.params(_REPLY_FIELDS, rep)
        if rep.addr is None:
            raise WartsFormatError("tracelb reply without an address")
        p.replies.append(rep)
    return p


def _read_link(r: Reader, t: TracelbData) -> TracelbLinkData:
    link = TracelbLinkData()
    present = r.params(_LINK_FIELDS, link)
    if link.near >= len(t.nodes):
        raise WartsFormatError("tracelb link from a missing node")
    if 2 not in present:
        link.far = None
    elif link.far is None or link.far >= len(t.nodes):
        raise WartsFormatError("tracelb link to a missing node")
    for _ in range(link.hopc):
        s = TracelbProbesetData()
        r.params(_PROBESET_FIELDS, s)
        s.probes = [_read_probe(r) for _ in range(s.probec)]
        link.sets.append(s)
    return link


def decode_tracelb(r: Reader) -> TracelbData:
    t = TracelbData()
    r.params(_FIELDS, t)
    if t.src is None or t.dst is None:
        raise WartsFormatError("tracelb without source or destination")
    for _ in range(t.nodec):
        n = TracelbNodeData()
        r.params(_NODE_FIELDS, n)
        if n.addr is None:
            raise WartsFormatError("tracelb node without an address")
        t.nodes.append(n)
    t.links = [_read_link(r, t) for _ in range(t.linkc)]
    for i, link in enumerate(t.links):
        t.nodes[link.near].links.append(i)
    if any(len(n.links) != n.linkc for n in t.nodes):
        raise WartsFormatError("tracelb node link counts disagree with the links")
    return t


# -- writing ----------------------------------------------------------------------


@register(icmpext)
def _w_icmpext(w: Writer, v: list[tuple[int, int, bytes]]) -> None:
    write_icmpext(w, v)


def encode_tracelb(w: Writer, t: TracelbData) -> None:
    w.params(_FIELDS, t, with_modern(present_ids(t), {3: 21, 4: 22}))
    for n in t.nodes:
        w.params(_NODE_FIELDS, n, with_modern(present_ids(n), {1: 5}))
    for link in t.links:
        w.params(_LINK_FIELDS, link, {1, 3} | ({2} if link.far is not None else set()))
        for s in link.sets:
            w.params(_PROBESET_FIELDS, s, {1})
            for p in s.probes:
                w.params(_PROBE_FIELDS, p)
                for rep in p.replies:
                    w.params(_REPLY_FIELDS, rep, with_modern(present_ids(rep), {10: 11}))
