"""Alias-resolution results: ``ScamperDealias``, ``ScamperDealiasProbe``,
``ScamperDealiasReply`` (reference §7.4).

One record type covers seven techniques; each stores its own parameters
(with its own units) before the shared probedef and probe lists.  The raw
values are kept in :class:`DealiasData` under unit-suffixed names and the
properties convert them.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ..addr import ScamperAddr
from ..commands.dealias_types import ScamperDealiasProbedef
from ._util import NoInit, Timeval, index_or_none, to_datetime, us_to_timedelta
from .common import ScamperCycle, ScamperIcmpExts, ScamperList, ScamperResult, icmp_exts_from

__all__ = ["DealiasData", "ScamperDealias", "ScamperDealiasProbe", "ScamperDealiasReply"]

MERCATOR, ALLY, RADARGUN, PREFIXSCAN, BUMP, MIDAREST, MIDARDISC = range(1, 8)
METHOD_NAMES = ("", "mercator", "ally", "radargun", "prefixscan", "bump", "midarest", "midardisc")
RESULT_ALIASES = 1
RESULT_NAMES = ("none", "aliases", "not-aliases", "halted", "ipid-echo")
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

    def view(self) -> ScamperDealiasProbedef:
        icmp = self.method in PD_ICMP
        return ScamperDealiasProbedef._from_result(
            PD_METHOD_NAMES[self.method] if 0 < self.method < len(PD_METHOD_NAMES) else "udp",
            src=str(self.src) if self.src is not None else None,
            dst=str(self.dst) if self.dst is not None else None,
            ttl=self.ttl,
            size=self.size,
            sport=0 if icmp else self.sport,
            dport=0 if icmp else self.dport,
            icmp_id=self.icmp_id if icmp else 0,
            icmp_sum=self.icmp_csum if icmp else 0,
        )


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
    list_: ScamperList | None = None
    cycle: ScamperCycle | None = None
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


class ScamperDealiasReply(NoInit):
    """One reply to an alias-resolution probe."""

    __slots__ = ("_r",)
    _r: DealiasReplyData

    @classmethod
    def _create(cls, r: DealiasReplyData) -> ScamperDealiasReply:
        obj = cls._new()
        obj._r = r
        return obj

    @property
    def src(self) -> ScamperAddr | None:
        return self._r.src

    @property
    def rx(self) -> _dt.datetime | None:
        rx = self._r.rx
        return None if rx is None or rx == (0, 0) else to_datetime(rx)

    @property
    def ttl(self) -> int:
        return self._r.ttl

    @property
    def size(self) -> int:
        return self._r.size

    @property
    def ipid(self) -> int | None:
        src = self._r.src
        if src is not None and src.is_ipv4():
            return self._r.ipid
        return self._r.ipid32 if self._r.flags & REPLY_FLAG_IPID32 else None

    @property
    def tcp_flags(self) -> int | None:
        return self._r.tcp_flags if self._r.is_tcp() else None

    @property
    def icmp_type(self) -> int | None:
        return self._r.icmp_type if self._r.is_icmp() else None

    @property
    def icmp_code(self) -> int | None:
        return self._r.icmp_code if self._r.is_icmp() else None

    @property
    def icmp_q_ttl(self) -> int | None:
        return self._r.icmp_q_ttl if self._r.is_icmp_q() else None

    @property
    def icmp_exts(self) -> ScamperIcmpExts | None:
        return icmp_exts_from(self._r.icmpext)

    def is_tcp(self) -> bool:
        return self._r.is_tcp()

    def is_icmp(self) -> bool:
        return self._r.is_icmp()

    def is_icmp_ttl_exp(self) -> bool:
        return self._r.icmp_is((11, None), (3, None))

    def is_icmp_unreach(self) -> bool:
        return self._r.icmp_is((3, None), (1, None))

    def is_icmp_unreach_port(self) -> bool:
        return self._r.icmp_is((3, 3), (1, 4))

    def is_icmp_echo_reply(self) -> bool:
        return self._r.icmp_is((0, None), (129, None))

    def is_from_target(self) -> bool:
        """scamper's test: an echo reply, a port unreachable, or any TCP
        segment answers the probe rather than reporting on the path."""
        return self.is_icmp_echo_reply() or self.is_icmp_unreach_port() or self.is_tcp()


class ScamperDealiasProbe(NoInit):
    """One probe sent (and the replies it got)."""

    __slots__ = ("_d", "_p")
    _d: DealiasData
    _p: DealiasProbeData

    @classmethod
    def _create(cls, d: DealiasData, p: DealiasProbeData) -> ScamperDealiasProbe:
        obj = cls._new()
        obj._d, obj._p = d, p
        return obj

    @property
    def probedef(self) -> ScamperDealiasProbedef:
        return self._d.probedefs[self._p.def_id].view()

    @property
    def seq(self) -> int:
        return self._p.seq

    @property
    def tx(self) -> _dt.datetime | None:
        return to_datetime(self._p.tx)

    @property
    def ipid(self) -> int:
        return self._p.ipid

    @property
    def reply_count(self) -> int:
        return len(self._p.replies)

    def reply(self, i: int = 0) -> ScamperDealiasReply | None:
        r = index_or_none(self._p.replies, i)
        return None if r is None else ScamperDealiasReply._create(r)

    def replies(self) -> Iterator[ScamperDealiasReply]:
        return (ScamperDealiasReply._create(r) for r in self._p.replies)


class ScamperDealias(ScamperResult):
    """An alias-resolution measurement (reference §7.4)."""

    __slots__ = ("_d",)
    _d: DealiasData

    @classmethod
    def _create(cls, data: DealiasData, inst: Any = None) -> ScamperDealias:
        return cls._from_data(data, inst)

    def _is(self, m: int) -> bool:
        return self._d.method == m

    def is_mercator(self) -> bool:
        return self._is(MERCATOR)

    def is_ally(self) -> bool:
        return self._is(ALLY)

    def is_radargun(self) -> bool:
        return self._is(RADARGUN)

    def is_prefixscan(self) -> bool:
        return self._is(PREFIXSCAN)

    def is_bump(self) -> bool:
        return self._is(BUMP)

    def is_midarest(self) -> bool:
        return self._is(MIDAREST)

    def is_midardisc(self) -> bool:
        return self._is(MIDARDISC)

    def has_aliases(self) -> bool:
        return self._d.result == RESULT_ALIASES

    def aliases(self) -> tuple[ScamperAddr, ScamperAddr] | None:
        d = self._d
        if not self.has_aliases():
            return None
        if d.method == ALLY and len(d.probedefs) == 2:
            a, b = d.probedefs[0].dst, d.probedefs[1].dst
        elif d.method == MERCATOR and d.probedefs:
            a = d.probedefs[0].dst
            b = next((r.src for p in d.probes for r in p.replies if r.src != a), None)
        elif d.method == PREFIXSCAN:
            a, b = d.a, d.ab
        else:
            return None
        return (a, b) if a is not None and b is not None else None

    @property
    def probedef_count(self) -> int | None:
        if self._d.method in (MERCATOR, ALLY, BUMP, RADARGUN, PREFIXSCAN, MIDAREST, MIDARDISC):
            return len(self._d.probedefs)
        return None

    def probedef(self, i: int = 0) -> ScamperDealiasProbedef | None:
        pd = index_or_none(self._d.probedefs, i)
        return None if pd is None else pd.view()

    def probedefs(self) -> Iterator[ScamperDealiasProbedef]:
        return (pd.view() for pd in self._d.probedefs)

    @property
    def probe_count(self) -> int:
        return len(self._d.probes)

    def probe(self, i: int = 0) -> ScamperDealiasProbe | None:
        p = index_or_none(self._d.probes, i)
        return None if p is None else ScamperDealiasProbe._create(self._d, p)

    def probes(self) -> Iterator[ScamperDealiasProbe]:
        return (ScamperDealiasProbe._create(self._d, p) for p in self._d.probes)

    @property
    def startat(self) -> _dt.datetime | None:
        return to_datetime(self._d.startat) if self._d.method == MIDARDISC else None

    @property
    def wait_probe(self) -> _dt.timedelta | None:
        d = self._d
        if d.method in (ALLY, RADARGUN, PREFIXSCAN, BUMP):
            return us_to_timedelta(d.wait_probe_ms * 1000)
        if d.method == MIDAREST:
            return us_to_timedelta(d.wait_probe_us)
        if d.method == MERCATOR:  # the module reports mercator's timeout here
            return _dt.timedelta(seconds=d.wait_timeout_s)
        return None

    @property
    def wait_round(self) -> _dt.timedelta | None:
        d = self._d
        if d.method == RADARGUN:
            return us_to_timedelta(d.wait_round_ms * 1000)
        if d.method == MIDAREST:
            return us_to_timedelta(d.wait_round_us)
        return None

    @property
    def wait_timeout(self) -> _dt.timedelta | None:
        d = self._d
        if d.method in (MIDAREST, MIDARDISC):
            return us_to_timedelta(d.wait_timeout_us)
        if d.method == BUMP:
            return None
        return _dt.timedelta(seconds=d.wait_timeout_s)

    def to_json(self) -> str | None:
        from ._dealias_fmt import dealias_json

        return dealias_json(self._d)

    def to_text(self) -> str | None:
        from ._dealias_fmt import dealias_text

        return dealias_text(self._d)
