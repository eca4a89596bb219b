"""Warts ping records (type 7).

Layout: a flags/params block for the ping, a 16-bit reply count, then one
flags/params block per reply.  Field ids are those scamper has used since
2010; the same table decodes files from 20211212 and from 20260420 (ids
added later are skipped by :meth:`Reader.params`).
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
    "PingData",
    "PingReplyData",
    "decode_ping",
    "encode_ping",
]

# Probe methods (the ``method`` field), in scamper's numbering, and its words for them.
M_ICMP_ECHO, M_TCP_ACK, M_TCP_ACK_SPORT, M_UDP, M_UDP_DPORT, M_ICMP_TIME = range(6)
M_TCP_SYN, M_TCP_SYNACK, M_TCP_RST, M_TCP_SYN_SPORT, M_UDP_SPORT = range(6, 11)
METHOD_NAMES = (
    "icmp-echo",
    "tcp-ack",
    "tcp-ack-sport",
    "udp",
    "udp-dport",
    "icmp-time",
    "tcp-syn",
    "tcp-synack",
    "tcp-rst",
    "tcp-syn-sport",
    "udp-sport",
)
ICMP_METHODS = frozenset({M_ICMP_ECHO, M_ICMP_TIME})
TCP_METHODS = frozenset(
    {M_TCP_ACK, M_TCP_ACK_SPORT, M_TCP_SYN, M_TCP_SYNACK, M_TCP_RST, M_TCP_SYN_SPORT}
)
UDP_METHODS = frozenset({M_UDP, M_UDP_DPORT, M_UDP_SPORT})
VARY_SPORT_METHODS = frozenset({M_TCP_ACK_SPORT, M_TCP_SYN_SPORT, M_UDP_SPORT})

#: scamper's words for the ``stop_reason`` codes
STOP_NAMES = ("none", "done", "error", "halted", "inprogress")

# Bits of the ping ``flags`` word that a rendering shows (0x01 is v4rr, 0x02 spoof).
FLAG_PAYLOAD, FLAG_TSONLY, FLAG_ICMPSUM = 0x04, 0x08, 0x20

# Bits of a reply's ``flags``: which optional values the reply carries.
REPLY_FLAG_REPLY_TTL, REPLY_FLAG_REPLY_IPID, REPLY_FLAG_PROBE_IPID = 0x01, 0x02, 0x04
REPLY_FLAG_DLTX, REPLY_FLAG_DLRX, REPLY_FLAG_REPLY_TOS = 0x08, 0x10, 0x20

IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6 = 1, 6, 17, 58


@dataclass
class PingReplyData:
    """One reply as stored in warts (raw field values)."""

    addr: ScamperAddr | None = None
    flags: int = 0
    reply_ttl: int = 0
    reply_size: int = 0
    icmp_type: int = 0
    icmp_code: int = 0
    rtt: int = 0  # microseconds
    probe_id: int = 0
    reply_ipid: int = 0
    probe_ipid: int = 0
    reply_proto: int = 0
    tcp_flags: int = 0
    v4rr: list[ScamperAddr] | None = None
    v4ts: tuple[list[int], list[ScamperAddr] | None] | None = None
    reply_ipid32: int = 0
    tx: Timeval | None = None
    tsreply: tuple[int, int, int] | None = None
    probe_sport: int = 0
    reply_tos: int = 0
    ifname: str | None = None
    # fields written by newer scamper releases than any we have seen
    tcp_mss: int = 0
    icmp_nhmtu: int = 0

    def is_icmp(self) -> bool:
        a, proto = self.addr, self.reply_proto
        if a is None:
            return False
        return (a.is_ipv4() and proto == IPPROTO_ICMP) or (a.is_ipv6() and proto == IPPROTO_ICMPV6)

    def is_tcp(self) -> bool:
        return self.reply_proto == IPPROTO_TCP

    def is_udp(self) -> bool:
        return self.reply_proto == IPPROTO_UDP

    def icmp_is(self, v4: tuple[int, int | None], v6: tuple[int, int | None]) -> bool:
        """An ICMP reply of this (type, code) for its address family; a code
        of None matches any."""
        if not self.is_icmp() or self.addr is None:
            return False
        t, c = v4 if self.addr.is_ipv4() else v6
        return self.icmp_type == t and (c is None or self.icmp_code == c)

    def is_icmp_tsreply(self) -> bool:
        return (
            self.addr is not None and self.addr.is_ipv4() and self.icmp_is((14, None), (-1, None))
        )

    def is_icmp_ptb(self) -> bool:
        return self.icmp_is((3, 4), (2, None))


@dataclass
class PingData:
    """A ping measurement as stored in warts."""

    list_: ListData | None = None
    cycle: CycleData | None = None
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    rtr: ScamperAddr | None = None
    start: Timeval | None = None
    stop_reason: int = 0
    stop_data: int = 0
    datalen: int = 0
    data: bytes | None = None
    probe_count: int = 0
    probe_size: int = 0
    wait_probe_s: int = 0
    probe_ttl: int = 0
    reply_count: int = 0
    ping_sent: int = 0
    method: int = 0
    sport: int = 0
    dport: int = 0
    userid: int = 0
    flags8: int = 0
    tos: int = 0
    tsps: list[ScamperAddr] | None = None
    icmpsum: int = 0
    reply_pmtu: int = 0
    wait_timeout_s: int = 0
    wait_probe_us: int = 0
    tcpack: int = 0
    flags: int = 0
    tcpseq: int = 0
    wait_timeout_us: int = 0
    tcp_mss: int = 0
    replies: list[PingReplyData] = field(default_factory=list)

    @property
    def wait_probe(self) -> int:
        """Inter-probe gap in microseconds."""
        return self.wait_probe_s * 1_000_000 + self.wait_probe_us

    @property
    def wait_timeout(self) -> int:
        """Reply timeout in microseconds."""
        return self.wait_timeout_s * 1_000_000 + self.wait_timeout_us

    def is_icmp(self) -> bool:
        return self.method in ICMP_METHODS

    def is_tcp(self) -> bool:
        return self.method in TCP_METHODS

    def is_udp(self) -> bool:
        return self.method in UDP_METHODS

    def is_from_target(self, reply: PingReplyData) -> bool:
        """Whether ``reply`` answers the probe (rather than reporting an
        error on the way), by scamper's test for this ping's method: only
        such replies count as received."""
        m = self.method
        if m == M_ICMP_ECHO:
            return reply.icmp_is((0, None), (129, None))
        if m == M_ICMP_TIME:
            return reply.is_icmp_tsreply()
        if m in TCP_METHODS:
            return reply.is_tcp()
        if m in UDP_METHODS:
            return reply.icmp_is((3, 3), (1, 4)) or reply.is_udp()
        return False


def _tsps(r: Reader) -> list[ScamperAddr]:
    return [r.addr() for _ in range(r.u8())]


def _v4rr(r: Reader) -> list[ScamperAddr]:
    return [r.addr() for _ in range(r.u8())]


def _v4ts(r: Reader) -> tuple[list[int], list[ScamperAddr] | None]:
    tsc = r.u8()
    ipc = r.u8()
    if ipc not in (0, tsc):
        raise WartsFormatError("timestamp option with mismatched address count")
    tss = [r.u32() for _ in range(tsc)]
    ips = [r.addr() for _ in range(ipc)] if ipc else None
    return tss, ips


def _icmp_tc(r: Reader) -> tuple[int, int]:
    return r.u8(), r.u8()


def _tsreply(r: Reader) -> tuple[int, int, int]:
    return r.u32(), r.u32(), r.u32()


def _ifname(r: Reader) -> str:
    return r.ifname()


_REPLY_FIELDS: Sequence[Field | None] = (
    ("addr", R.addr_gid),  # 1, deprecated global address id
    ("flags", R.u8),  # 2
    ("reply_ttl", R.u8),  # 3
    ("reply_size", R.u16),  # 4
    ("_icmp_tc", _icmp_tc),  # 5
    ("rtt", R.rtt),  # 6
    ("probe_id", R.u16),  # 7
    ("reply_ipid", R.u16),  # 8
    ("probe_ipid", R.u16),  # 9
    ("reply_proto", R.u8),  # 10
    ("tcp_flags", R.u8),  # 11
    ("addr", R.addr),  # 12
    ("v4rr", _v4rr),  # 13
    ("v4ts", _v4ts),  # 14
    ("reply_ipid32", R.u32),  # 15
    ("tx", R.timeval),  # 16
    ("tsreply", _tsreply),  # 17
    ("probe_sport", R.u16),  # 18
    ("reply_tos", R.u8),  # 19
    ("ifname", _ifname),  # 20
)


class _ReplyTarget(PingReplyData):
    """Receives the icmp type/code pair, stored as one field in warts."""

    @property
    def _icmp_tc(self) -> tuple[int, int]:
        return self.icmp_type, self.icmp_code

    @_icmp_tc.setter
    def _icmp_tc(self, v: tuple[int, int]) -> None:
        self.icmp_type, self.icmp_code = v


def _read_reply(r: Reader, ping: PingData) -> PingReplyData:
    rep = _ReplyTarget()
    present = r.params(_REPLY_FIELDS, rep)
    if rep.addr is None:
        raise WartsFormatError("ping reply without an address")
    if 10 not in present:
        # Early writers omitted the protocol for ICMP replies.
        v6 = ping.dst is not None and ping.dst.is_ipv6()
        rep.reply_proto = IPPROTO_ICMPV6 if v6 else IPPROTO_ICMP
    return rep


def _datalen(r: Reader) -> int:
    n = r.u16()
    r.ctx.scratch["datalen"] = n
    return n


def _data_bytes(r: Reader) -> bytes:
    # The payload length is the DATA_LEN field read just before.
    return r.raw(r.ctx.scratch.get("datalen", 0))


_PING_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),  # 1
    ("cycle", R.cycle_ref),  # 2
    ("src", R.addr_gid),  # 3 deprecated
    ("dst", R.addr_gid),  # 4 deprecated
    ("start", R.timeval),  # 5
    ("stop_reason", R.u8),  # 6
    ("stop_data", R.u8),  # 7
    ("datalen", _datalen),  # 8
    ("data", _data_bytes),  # 9
    ("probe_count", R.u16),  # 10
    ("probe_size", R.u16),  # 11
    ("wait_probe_s", R.u8),  # 12
    ("probe_ttl", R.u8),  # 13
    ("reply_count", R.u16),  # 14
    ("ping_sent", R.u16),  # 15
    ("method", R.u8),  # 16
    ("sport", R.u16),  # 17
    ("dport", R.u16),  # 18
    ("userid", R.u32),  # 19
    ("src", R.addr),  # 20
    ("dst", R.addr),  # 21
    ("flags8", R.u8),  # 22
    ("tos", R.u8),  # 23
    ("tsps", _tsps),  # 24
    ("icmpsum", R.u16),  # 25
    ("reply_pmtu", R.u16),  # 26
    ("wait_timeout_s", R.u8),  # 27
    ("wait_probe_us", R.u32),  # 28
    ("tcpack", R.u32),  # 29
    ("flags", R.u32),  # 30
    ("tcpseq", R.u32),  # 31
    ("rtr", R.addr_static),  # 32
    ("wait_timeout_us", R.u32),  # 33
)


@register(_datalen)
def _w_datalen(w: Writer, v: int) -> None:
    w.u16(v)


def decode_ping(r: Reader) -> PingData:
    """Decode the body of a ping record."""
    ping = PingData()
    present = r.params(_PING_FIELDS, ping)
    if ping.src is None or ping.dst is None:
        raise WartsFormatError("ping without source or destination")
    if 27 not in present:
        ping.wait_timeout_s = ping.wait_probe_s
    if 30 not in present and 22 in present:
        ping.flags = ping.flags8
    if ping.data is not None and not ping.data:
        ping.data = None

    count = r.u16()
    ping.replies = [_read_reply(r, ping) for _ in range(count)]
    return ping


# -- writing ----------------------------------------------------------------------


@register(_tsps)
@register(_v4rr)
def _w_addr_list(w: Writer, v: list[ScamperAddr]) -> None:
    w.u8(len(v))
    for a in v:
        w.addr(a)


@register(_v4ts)
def _w_v4ts(w: Writer, v: tuple[list[int], list[ScamperAddr] | None]) -> None:
    tss, ips = v
    w.u8(len(tss))
    w.u8(len(ips) if ips else 0)
    for ts in tss:
        w.u32(ts)
    for a in ips or ():
        w.addr(a)


@register(_icmp_tc)
def _w_icmp_tc(w: Writer, v: tuple[int, int]) -> None:
    w.u8(v[0])
    w.u8(v[1])


@register(_tsreply)
def _w_tsreply(w: Writer, v: tuple[int, int, int]) -> None:
    for x in v:
        w.u32(x)


@register(_ifname)
def _w_ifname(w: Writer, v: str) -> None:
    w.ifname(v)


def _w_data(w: Writer, v: bytes) -> None:
    w.raw(v)


def encode_ping(w: Writer, ping: PingData) -> None:
    ids = with_modern(present_ids(ping), {3: 20, 4: 21})
    w.params(_PING_FIELDS, ping, ids, custom={9: _w_data})
    w.u16(len(ping.replies))
    for rep in ping.replies:
        w.params(_REPLY_FIELDS, rep, with_modern(present_ids(rep), {1: 12}))
