"""Warts traceroute records (type 6).

Layout: trace flags/params, a 16-bit hop-record count, the hop records,
then a sequence of attribute blocks (PMTUD, last-ditch, doubletree), each
introduced by a 16-bit header (4-bit type, 12-bit length) and ended by a
zero header.  Attribute blocks of unknown type are skipped by length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsFormatError
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .writer import Writer, present_ids, register, with_modern

__all__ = [
    "METHOD_NAMES",
    "STOP_NAMES",
    "DtreeData",
    "PmtudData",
    "PmtudNoteData",
    "TraceData",
    "TraceHopData",
    "decode_trace",
    "encode_trace",
    "hop_is_icmp",
    "hop_is_icmp_q",
    "icmpext",
    "write_icmpext",
]

# Probe methods (the ``type`` field), in scamper's numbering, and its words for them.
M_ICMP_ECHO, M_UDP, M_TCP, M_ICMP_ECHO_PARIS, M_UDP_PARIS, M_TCP_ACK = range(1, 7)
METHOD_NAMES = {
    M_ICMP_ECHO: "icmp-echo",
    M_UDP: "udp",
    M_TCP: "tcp",
    M_ICMP_ECHO_PARIS: "icmp-echo-paris",
    M_UDP_PARIS: "udp-paris",
    M_TCP_ACK: "tcp-ack",
}
ICMP_METHODS = frozenset({M_ICMP_ECHO, M_ICMP_ECHO_PARIS})
UDP_METHODS = frozenset({M_UDP, M_UDP_PARIS})
TCP_METHODS = frozenset({M_TCP, M_TCP_ACK})

#: scamper's words for the ``stop_reason`` codes
STOP_NAMES = (
    "none",
    "completed",
    "unreach",
    "icmp",
    "loop",
    "gaplimit",
    "error",
    "hoplimit",
    "gss",
    "halted",
    "inprogress",
)

# Bits of the trace ``flags`` word: every attempt was sent; the ICMP checksum
# is in ``dport``; reply sizes and IP-IDs were not recorded (errors only).
FLAG_ALLATTEMPTS, FLAG_ICMPCSUMDP, FLAG_RXERR = 0x01, 0x20, 0x80

# Bits of a hop's ``flags``: the reply TTL is recorded; the reply was TCP / UDP.
HOP_FLAG_REPLY_TTL, HOP_FLAG_TCP, HOP_FLAG_UDP = 0x10, 0x20, 0x40


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

    list_: ListData | None = None
    cycle: CycleData | None = None
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


def hop_is_icmp(h: TraceHopData) -> bool:
    """The reply was ICMP (neither TCP nor UDP)."""
    return not h.flags & (HOP_FLAG_TCP | HOP_FLAG_UDP)


def hop_is_icmp_q(h: TraceHopData) -> bool:
    """An ICMP error that quotes the probe (time exceeded, unreachable, ...)."""
    if not hop_is_icmp(h) or h.addr is None:
        return False
    if h.addr.is_ipv4():
        return h.icmp_type in (3, 11)
    return 1 <= h.icmp_type <= 3


ATTR_EOF, ATTR_PMTUD, ATTR_LASTDITCH, ATTR_DTREE = 0, 1, 2, 3


def _icmp_tc(r: Reader) -> tuple[int, int]:
    return r.u8(), r.u8()


def _probe_id(r: Reader) -> int:
    return r.u8() + 1  # stored counting from zero


def icmpext(r: Reader) -> list[tuple[int, int, bytes]]:
    """RFC 4884 extension objects: a 16-bit total, then (len, class,
    type, data) objects filling it exactly."""
    total = r.u16()
    if total == 0:
        raise WartsFormatError("empty ICMP extension block")
    sub = Reader(r.buf, r.ctx, r.off, r.off + total)
    sub._need(total, "ICMP extensions")
    out: list[tuple[int, int, bytes]] = []
    while sub.remaining() >= 4:
        dl = sub.u16()
        cn = sub.u8()
        ct = sub.u8()
        out.append((cn, ct, sub.raw(dl)))
    if sub.remaining() != 0:
        raise WartsFormatError("trailing bytes in ICMP extension block")
    r.off = sub.off
    return out


class _HopTarget(TraceHopData):
    @property
    def _icmp_tc(self) -> tuple[int, int]:
        return self.icmp_type, self.icmp_code

    @_icmp_tc.setter
    def _icmp_tc(self, v: tuple[int, int]) -> None:
        self.icmp_type, self.icmp_code = v


_HOP_FIELDS: Sequence[Field | None] = (
    ("addr", R.addr_gid),  # 1 deprecated
    ("probe_ttl", R.u8),  # 2
    ("reply_ttl", R.u8),  # 3
    ("flags", R.u8),  # 4
    ("probe_id", _probe_id),  # 5
    ("rtt", R.rtt),  # 6
    ("_icmp_tc", _icmp_tc),  # 7
    ("probe_size", R.u16),  # 8
    ("reply_size", R.u16),  # 9
    ("reply_ipid", R.u16),  # 10
    ("reply_tos", R.u8),  # 11
    ("icmp_nhmtu", R.u16),  # 12
    ("icmp_q_ipl", R.u16),  # 13
    ("icmp_q_ttl", R.u8),  # 14
    ("tcp_flags", R.u8),  # 15
    ("icmp_q_tos", R.u8),  # 16
    ("icmpext", icmpext),  # 17
    ("addr", R.addr),  # 18
    ("tx", R.timeval),  # 19
    ("name", R.string),  # 20
)


def read_hop(r: Reader) -> TraceHopData:
    hop = _HopTarget()
    present = r.params(_HOP_FIELDS, hop)
    if hop.addr is None:
        raise WartsFormatError("trace hop without an address")
    if hop.probe_ttl == 0:
        raise WartsFormatError("trace hop with probe ttl 0")
    if hop_is_icmp_q(hop):
        if 14 not in present:
            hop.icmp_q_ttl = 1
        if 13 not in present:
            hop.icmp_q_ipl = hop.probe_size
    return hop


def read_hops(r: Reader, count: int) -> list[TraceHopData]:
    return [read_hop(r) for _ in range(count)]


_TRACE_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),  # 1
    ("cycle", R.cycle_ref),  # 2
    ("src", R.addr_gid),  # 3 deprecated
    ("dst", R.addr_gid),  # 4 deprecated
    ("start", R.timeval),  # 5
    ("stop_reason", R.u8),  # 6
    ("stop_data", R.u8),  # 7
    ("flags8", R.u8),  # 8
    ("attempts", R.u8),  # 9
    ("hoplimit", R.u8),  # 10
    ("type", R.u8),  # 11
    ("probe_size", R.u16),  # 12
    ("sport", R.u16),  # 13
    ("dport", R.u16),  # 14
    ("firsthop", R.u8),  # 15
    ("tos", R.u8),  # 16
    ("wait", R.u8),  # 17
    ("loops", R.u8),  # 18
    ("hop_count", R.u16),  # 19
    ("gaplimit", R.u8),  # 20
    ("gapaction", R.u8),  # 21
    ("loopaction", R.u8),  # 22
    ("probec", R.u16),  # 23
    ("wait_probe", R.u8),  # 24
    ("confidence", R.u8),  # 25
    ("src", R.addr),  # 26
    ("dst", R.addr),  # 27
    ("userid", R.u32),  # 28
    ("offset", R.u16),  # 29
    ("rtr", R.addr_static),  # 30
    ("squeries", R.u8),  # 31
    ("flags", R.u32),  # 32
    ("stop_hop", R.u8),  # 33
)


_PMTUD_FIELDS: Sequence[Field | None] = (
    ("ifmtu", R.u16),
    ("pmtu", R.u16),
    ("outmtu", R.u16),
    ("ver", R.u8),
    ("notec", R.u8),
)
_NOTE_FIELDS: Sequence[Field | None] = (("type", R.u8), ("nhmtu", R.u16), ("idx", R.u16))
_DTREE_FIELDS: Sequence[Field | None] = (
    ("lss_stop", R.addr_gid),
    ("gss_stop", R.addr_gid),
    ("firsthop", R.u8),
    ("lss_stop", R.addr),
    ("gss_stop", R.addr),
    ("lss", R.string),
    ("flags", R.u8),
)


@dataclass
class _NoteHop:
    type: int = 0
    nhmtu: int = 0
    idx: int | None = None


def _read_pmtud(r: Reader) -> PmtudData:
    p = PmtudData()
    r.params(_PMTUD_FIELDS, p)
    p.hops = read_hops(r, r.u16())
    for _ in range(p.notec):
        note = PmtudNoteData()
        holder = _NoteHop()
        r.params(_NOTE_FIELDS, holder)
        note.type, note.nhmtu = holder.type, holder.nhmtu
        if holder.idx is not None:
            if holder.idx >= len(p.hops):
                raise WartsFormatError("PMTUD note refers to a missing hop")
            note.hop = p.hops[holder.idx]
        p.notes.append(note)
    return p


def _read_dtree(r: Reader) -> DtreeData:
    d = DtreeData()
    r.params(_DTREE_FIELDS, d)
    return d


def decode_trace(r: Reader) -> TraceData:
    """Decode the body of a trace record."""
    t = TraceData()
    present = r.params(_TRACE_FIELDS, t)
    if t.dst is None:
        raise WartsFormatError("trace without a destination")
    if t.firsthop == 0:
        t.firsthop = 1
    if t.squeries < 2:
        t.squeries = 1
    if 32 not in present and 8 in present:
        t.flags = t.flags8

    t.hops = read_hops(r, r.u16())
    max_ttl = max((h.probe_ttl for h in t.hops), default=0)
    if t.hop_count:
        if t.hop_count < max_ttl or t.hop_count > 255:
            raise WartsFormatError("hop_count inconsistent with hop records")
    else:
        t.hop_count = max_ttl

    while True:
        hdr = r.u16()
        if hdr == ATTR_EOF:
            break
        atype, alen = hdr >> 12, hdr & 0x0FFF
        r._need(alen, "trace attribute")
        # Like scamper, parse against the record's end and then step over
        # the declared length (the 12-bit length can wrap for big blocks).
        sub = Reader(r.buf, r.ctx, r.off, r.end)
        if atype == ATTR_PMTUD:
            t.pmtud = _read_pmtud(sub)
        elif atype == ATTR_LASTDITCH:
            sub.params((), object())
            t.lastditch = read_hops(sub, sub.u16())
        elif atype == ATTR_DTREE:
            t.dtree = _read_dtree(sub)
        r.off += alen
    return t


# -- writing ----------------------------------------------------------------------


def write_icmpext(w: Writer, exts: list[tuple[int, int, bytes]]) -> None:
    w.u16(sum(4 + len(d) for _, _, d in exts))
    for cn, ct, d in exts:
        w.u16(len(d))
        w.u8(cn)
        w.u8(ct)
        w.raw(d)


@register(icmpext)
def _w_icmpext(w: Writer, v: list[tuple[int, int, bytes]]) -> None:
    write_icmpext(w, v)


@register(_icmp_tc)
def _w_icmp_tc(w: Writer, v: tuple[int, int]) -> None:
    w.u8(v[0])
    w.u8(v[1])


@register(_probe_id)
def _w_probe_id(w: Writer, v: int) -> None:
    w.u8(v - 1)


def write_hops(w: Writer, hops: list[TraceHopData]) -> None:
    w.u16(len(hops))
    for h in hops:
        w.params(_HOP_FIELDS, h, with_modern(present_ids(h), {1: 18}))


def _attr(w: Writer, atype: int, body: Writer) -> None:
    w.u16((atype << 12) | (len(body.buf) & 0x0FFF))
    w.raw(bytes(body.buf))


def encode_trace(w: Writer, t: TraceData) -> None:
    w.params(_TRACE_FIELDS, t, with_modern(present_ids(t), {3: 26, 4: 27}))
    write_hops(w, t.hops)
    if t.pmtud is not None:
        p, body = t.pmtud, w.sub()
        p.notec = len(p.notes)
        body.params(_PMTUD_FIELDS, p, present_ids(p) | {5} if p.notes else present_ids(p))
        write_hops(body, p.hops)
        for note in p.notes:
            holder = _NoteHop(note.type, note.nhmtu, None)
            ids = {1, 2}
            if note.hop is not None:
                holder.idx = next(i for i, h in enumerate(p.hops) if h is note.hop)
                ids.add(3)
            body.params(_NOTE_FIELDS, holder, ids)
        _attr(w, ATTR_PMTUD, body)
    if t.lastditch:
        body = w.sub()
        body.u8(0)
        write_hops(body, t.lastditch)
        _attr(w, ATTR_LASTDITCH, body)
    if t.dtree is not None:
        body = w.sub()
        body.params(_DTREE_FIELDS, t.dtree, with_modern(present_ids(t.dtree), {1: 4, 2: 5}))
        _attr(w, ATTR_DTREE, body)
    w.u16(ATTR_EOF)
