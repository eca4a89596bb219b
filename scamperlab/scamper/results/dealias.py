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
from typing import Any

from scamperlab.wire.warts.dealias import (
    ALLY,
    BUMP,
    MERCATOR,
    MIDARDISC,
    MIDAREST,
    PD_ICMP,
    PD_METHOD_NAMES,
    PREFIXSCAN,
    RADARGUN,
    REPLY_FLAG_IPID32,
    RESULT_ALIASES,
    DealiasData,
    DealiasProbeData,
    DealiasProbedefData,
    DealiasReplyData,
)

from ..addr import ScamperAddr
from ..commands.dealias_types import ScamperDealiasProbedef, probedef_from_result
from ._dealias_fmt import dealias_json, dealias_text
from ._util import NoInit, index_or_none, to_datetime, us_to_timedelta
from .common import ScamperIcmpExts, ScamperResult, icmp_exts_from

__all__ = ["ScamperDealias", "ScamperDealiasProbe", "ScamperDealiasReply"]


def probedef_view(pd: DealiasProbedefData) -> ScamperDealiasProbedef:
    """A probedef as the module's constructible ``ScamperDealiasProbedef``."""
    icmp = pd.method in PD_ICMP
    return probedef_from_result(
        PD_METHOD_NAMES[pd.method] if 0 < pd.method < len(PD_METHOD_NAMES) else "udp",
        src=str(pd.src) if pd.src is not None else None,
        dst=str(pd.dst) if pd.dst is not None else None,
        ttl=pd.ttl,
        size=pd.size,
        sport=0 if icmp else pd.sport,
        dport=0 if icmp else pd.dport,
        icmp_id=pd.icmp_id if icmp else 0,
        icmp_sum=pd.icmp_csum if icmp else 0,
    )


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
        return probedef_view(self._d.probedefs[self._p.def_id])

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
        return None if pd is None else probedef_view(pd)

    def probedefs(self) -> Iterator[ScamperDealiasProbedef]:
        return (probedef_view(pd) for pd in self._d.probedefs)

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
        return dealias_json(self._d)

    def to_text(self) -> str | None:
        return dealias_text(self._d)
