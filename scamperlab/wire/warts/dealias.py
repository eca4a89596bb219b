"""Warts alias-resolution records (type 9), both directions.

Layout: dealias flags/params (method, result, probe count, ...); a
technique block whose table depends on the method, followed by that
technique's probedefs (two for ally and bump, one for mercator, a counted
list otherwise); then ``probec`` probes, each a probe block followed by its
reply blocks.  Units differ by technique (milliseconds and seconds in the
older ones, microseconds in midarest/midardisc), so the technique fields
land in unit-suffixed attributes of :class:`DealiasData`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsFormatError
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .trace import icmpext
from .writer import Writer, present_ids, register, with_modern

__all__ = [
    "METHOD_NAMES",
    "PD_METHOD_NAMES",
    "RESULT_NAMES",
    "DealiasData",
    "DealiasProbeData",
    "DealiasProbedefData",
    "DealiasReplyData",
    "MidardiscRoundData",
    "decode_dealias",
    "encode_dealias",
]

# Techniques (the ``method`` field), in scamper's numbering, and its words for them.
MERCATOR, ALLY, RADARGUN, PREFIXSCAN, BUMP, MIDAREST, MIDARDISC = range(1, 8)
METHOD_NAMES = ("", "mercator", "ally", "radargun", "prefixscan", "bump", "midarest", "midardisc")

#: scamper's words for the ``result`` codes
RESULT_NONE, RESULT_ALIASES, RESULT_NOT_ALIASES = 0, 1, 2
RESULT_NAMES = ("none", "aliases", "not-aliases", "halted", "ipid-echo")

# Probedef methods, and scamper's words for them.
PD_ICMP_ECHO, PD_TCP_ACK, PD_UDP, PD_TCP_ACK_SPORT, PD_UDP_DPORT, PD_TCP_SYN_SPORT = range(1, 7)
PD_METHOD_NAMES = ("", "icmp-echo", "tcp-ack", "udp", "tcp-ack-sport", "udp-dport", "tcp-syn-sport")
PD_ICMP = frozenset({PD_ICMP_ECHO})
PD_UDP_SET = frozenset({PD_UDP, PD_UDP_DPORT})
PD_TCP = frozenset({PD_TCP_ACK, PD_TCP_ACK_SPORT, PD_TCP_SYN_SPORT})
REPLY_FLAG_IPID32 = 0x01
IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_ICMPV6 = 1, 6, 58


@dataclass
class DealiasProbedefData:
    id: int = 0
    method: int = 0
    ttl: int = 0
    tos: int = 0
    bytes4: bytes = b"\0\0\0\0"  # sport+dport (TCP/UDP) or legacy icmp checksum
    tcp_flags: int = 0
    icmp_id: int = 0
    dst: ScamperAddr | None = None
    src: ScamperAddr | None = None
    size: int = 0
    mtu: int = 0
    icmp_csum: int = 0

    @property
    def sport(self) -> int:
        return int.from_bytes(self.bytes4[:2], "big")

    @property
    def dport(self) -> int:
        return int.from_bytes(self.bytes4[2:], "big")


@dataclass
class DealiasReplyData:
    src: ScamperAddr | None = None
    rx: Timeval | None = None
    ipid: int = 0
    ttl: int = 0
    icmp_type: int = 0
    icmp_code: int = 0
    icmp_q_ttl: int = 0
    icmpext: list[tuple[int, int, bytes]] | None = None
    proto: int = 0
    tcp_flags: int = 0
    ipid32: int = 0
    flags: int = 0
    size: int = 0

    @property
    def _icmp_tc(self) -> tuple[int, int]:
        """ICMP type and code, stored as one field in warts."""
        return self.icmp_type, self.icmp_code

    @_icmp_tc.setter
    def _icmp_tc(self, v: tuple[int, int]) -> None:
        self.icmp_type, self.icmp_code = v

    def is_icmp(self) -> bool:
        return self.proto in (IPPROTO_ICMP, IPPROTO_ICMPV6)

    def is_tcp(self) -> bool:
        return self.proto == IPPROTO_TCP

    def icmp_is(self, v4: tuple[int, int | None], v6: tuple[int, int | None]) -> bool:
        if not self.is_icmp() or self.src is None:
            return False
        t, c = v4 if self.src.is_ipv4() else v6
        return self.icmp_type == t and (c is None or self.icmp_code == c)

    def is_icmp_q(self) -> bool:
        return self.icmp_is((3, None), (1, None)) or self.icmp_is((11, None), (3, None))


@dataclass
class DealiasProbeData:
    def_id: int = 0
    tx: Timeval | None = None
    replyc: int = 0
    ipid: int = 0
    seq: int = 0
    replies: list[DealiasReplyData] = field(default_factory=list)


@dataclass
class MidardiscRoundData:
    start: Timeval = (0, 0)
    begin: int = 0
    end: int = 0


@dataclass
class DealiasData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    start: Timeval | None = None
    method: int = 0
    result: int = 0
    probec: int = 0
    userid: int = 0
    # technique parameters, raw (see the warts module for which apply where)
    wait_probe_ms: int = 0
    wait_round_ms: int = 0
    wait_timeout_s: int = 0
    wait_probe_us: int = 0
    wait_round_us: int = 0
    wait_timeout_us: int = 0
    attempts: int = 0
    fudge: int = 0
    flags: int = 0
    probedefc: int = 0
    rounds: int = 0
    bump_limit: int = 0
    a: ScamperAddr | None = None
    b: ScamperAddr | None = None
    ab: ScamperAddr | None = None
    xs: list[ScamperAddr] | None = None
    prefix: int = 0
    replyc: int = 5
    sched: list[MidardiscRoundData] | None = None
    startat: Timeval | None = None
    params: Any = None  # the decoded technique block (keeps its flag ids)
    probedefs: list[DealiasProbedefData] = field(default_factory=list)
    probes: list[DealiasProbeData] = field(default_factory=list)


def _bytes4(r: Reader) -> bytes:
    return r.raw(4)


def _xs(r: Reader) -> list[ScamperAddr]:
    return [r.addr() for _ in range(r.u16())]


def _sched(r: Reader) -> list[MidardiscRoundData]:
    out = []
    for _ in range(r.u32()):
        start = r.timeval()
        out.append(MidardiscRoundData(start, r.u32(), r.u32()))
    return out


def _icmp_tc(r: Reader) -> tuple[int, int]:
    return r.u8(), r.u8()


_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),
    ("cycle", R.cycle_ref),
    ("start", R.timeval),
    ("method", R.u8),
    ("result", R.u8),
    ("probec", R.u32),
    ("userid", R.u32),
)

#: method -> (technique table, fixed probedef count or None for counted)
_METHOD_FIELDS: dict[int, tuple[Sequence[Field | None], int | None]] = {
    MERCATOR: ((("attempts", R.u8), ("wait_timeout_s", R.u8)), 1),
    ALLY: (
        (
            ("wait_probe_ms", R.u16),
            ("wait_timeout_s", R.u8),
            ("attempts", R.u8),
            ("fudge", R.u16),
            ("flags", R.u8),
        ),
        2,
    ),
    RADARGUN: (
        (
            ("probedefc", R.u32),
            ("rounds", R.u16),
            ("wait_probe_ms", R.u16),
            ("wait_round_ms", R.u32),
            ("wait_timeout_s", R.u8),
            ("flags", R.u8),
        ),
        None,
    ),
    PREFIXSCAN: (
        (
            ("a", R.addr),
            ("b", R.addr),
            ("ab", R.addr),
            ("xs", _xs),
            ("prefix", R.u8),
            ("attempts", R.u8),
            ("fudge", R.u16),
            ("wait_probe_ms", R.u16),
            ("wait_timeout_s", R.u8),
            ("probedefc", R.u16),
            ("flags", R.u8),
            ("replyc", R.u8),
        ),
        None,
    ),
    BUMP: ((("wait_probe_ms", R.u16), ("bump_limit", R.u16), ("attempts", R.u8)), 2),
    MIDAREST: (
        (
            ("probedefc", R.u16),
            ("rounds", R.u8),
            ("wait_probe_us", R.rtt),
            ("wait_round_us", R.rtt),
            ("wait_timeout_us", R.rtt),
        ),
        None,
    ),
    MIDARDISC: (
        (
            ("probedefc", R.u32),
            ("wait_timeout_us", R.rtt),
            ("sched", _sched),
            ("startat", R.timeval),
        ),
        None,
    ),
}

_PROBEDEF_FIELDS: Sequence[Field | None] = (
    ("dst", R.addr_gid),  # 1 deprecated
    ("src", R.addr_gid),  # 2 deprecated
    ("id", R.u32),
    ("method", R.u8),
    ("ttl", R.u8),
    ("tos", R.u8),
    ("bytes4", _bytes4),  # 7
    ("tcp_flags", R.u8),
    ("icmp_id", R.u16),
    ("dst", R.addr),  # 10
    ("src", R.addr),  # 11
    ("size", R.u16),
    ("mtu", R.u16),
    ("icmp_csum", R.u16),
)
_PROBE_FIELDS: Sequence[Field | None] = (
    ("def_id", R.u32),
    ("tx", R.timeval),
    ("replyc", R.u16),
    ("ipid", R.u16),
    ("seq", R.u32),
)
_REPLY_FIELDS: Sequence[Field | None] = (
    ("src", R.addr_gid),  # 1 deprecated
    ("rx", R.timeval),
    ("ipid", R.u16),
    ("ttl", R.u8),
    ("_icmp_tc", _icmp_tc),
    ("icmp_q_ttl", R.u8),
    ("icmpext", icmpext),
    ("proto", R.u8),  # 8
    ("tcp_flags", R.u8),
    ("src", R.addr),  # 10
    ("ipid32", R.u32),
    ("flags", R.u8),
    ("size", R.u16),
)


def _read_probedef(r: Reader) -> DealiasProbedefData:
    pd = DealiasProbedefData()
    present = r.params(_PROBEDEF_FIELDS, pd)
    if pd.src is None or pd.dst is None:
        raise WartsFormatError("dealias probedef without source or destination")
    if pd.method in PD_ICMP and 7 in present:
        pd.icmp_csum = int.from_bytes(pd.bytes4[2:], "big")  # the oldest layout
    return pd


def _read_reply(r: Reader) -> DealiasReplyData:
    rep = DealiasReplyData()
    present = r.params(_REPLY_FIELDS, rep)
    if rep.src is None:
        raise WartsFormatError("dealias reply without a source")
    if 8 not in present:
        rep.proto = IPPROTO_ICMP if rep.src.is_ipv4() else IPPROTO_ICMPV6
    return rep


def decode_dealias(r: Reader) -> DealiasData | None:
    d = DealiasData()
    r.params(_FIELDS, d)
    if d.method == 0:
        raise WartsFormatError("dealias record without a method")
    spec = _METHOD_FIELDS.get(d.method)
    if spec is None:
        return None  # a technique newer than this decoder: skipped, as scamper does
    table, fixed = spec
    block = SimpleNamespace()
    present = r.params(table, block)
    for name, _ in (f for f in table if f is not None):
        if hasattr(block, name):
            setattr(d, name, getattr(block, name))
    d.params = block
    if d.method == PREFIXSCAN and (d.a is None or d.b is None):
        raise WartsFormatError("prefixscan without its addresses")
    if fixed is None and d.method in (RADARGUN, MIDAREST, MIDARDISC) and d.probedefc == 0:
        raise WartsFormatError("dealias record without probedefs")
    if d.method == PREFIXSCAN and 12 not in present:
        d.replyc = 5
    count = fixed if fixed is not None else d.probedefc
    d.probedefs = [_read_probedef(r) for _ in range(count)]
    for _ in range(d.probec):
        p = DealiasProbeData()
        r.params(_PROBE_FIELDS, p)
        if p.def_id >= len(d.probedefs):
            raise WartsFormatError("dealias probe refers to a missing probedef")
        p.replies = [_read_reply(r) for _ in range(p.replyc)]
        d.probes.append(p)
    return d


# -- writing ----------------------------------------------------------------------


@register(_bytes4)
def _w_bytes4(w: Writer, v: bytes) -> None:
    w.raw(v)


@register(_xs)
def _w_xs(w: Writer, v: list[ScamperAddr]) -> None:
    w.u16(len(v))
    for a in v:
        w.addr(a)


@register(_sched)
def _w_sched(w: Writer, v: list[MidardiscRoundData]) -> None:
    w.u32(len(v))
    for rnd in v:
        w.timeval(rnd.start)
        w.u32(rnd.begin)
        w.u32(rnd.end)


@register(_icmp_tc)
def _w_icmp_tc(w: Writer, v: tuple[int, int]) -> None:
    w.u8(v[0])
    w.u8(v[1])


def encode_dealias(w: Writer, d: DealiasData) -> None:
    w.params(_FIELDS, d)
    table, _ = _METHOD_FIELDS[d.method]
    w.params(table, d, present_ids(d.params))
    for pd in d.probedefs:
        w.params(_PROBEDEF_FIELDS, pd, with_modern(present_ids(pd), {1: 10, 2: 11}))
    for p in d.probes:
        w.params(_PROBE_FIELDS, p)
        for rep in p.replies:
            w.params(_REPLY_FIELDS, rep, with_modern(present_ids(rep), {1: 10}))
