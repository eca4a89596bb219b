"""Traceroute results: ``ScamperTrace``, ``ScamperTraceHop``,
``ScamperTracePmtud``, ``ScamperTracePmtudNote`` (reference §7.2)."""

from __future__ import annotations

import datetime as _dt
from collections.abc import Generator, Iterator
from typing import Any

from scamperlab.wire.warts.trace import (
    FLAG_ICMPCSUMDP,
    FLAG_RXERR,
    HOP_FLAG_REPLY_TTL,
    HOP_FLAG_TCP,
    ICMP_METHODS,
    STOP_NAMES,
    TCP_METHODS,
    UDP_METHODS,
    PmtudData,
    PmtudNoteData,
    TraceData,
    TraceHopData,
    hop_is_icmp,
    hop_is_icmp_q,
)

from ..addr import ScamperAddr
from ..enums import ScamperTraceStop
from ._trace_fmt import trace_json, trace_text
from ._util import NoInit, enum_or_int, fmt_ms, name_of, to_datetime, us_to_timedelta
from .common import ScamperIcmpExts, ScamperResult, icmp_exts_from

__all__ = ["ScamperTrace", "ScamperTraceHop", "ScamperTracePmtud", "ScamperTracePmtudNote"]


class ScamperTraceHop(NoInit):
    """One probe and the response it elicited."""

    __slots__ = ("_h", "_t")
    _h: TraceHopData
    _t: TraceData

    @classmethod
    def _create(cls, trace: TraceData, hop: TraceHopData) -> ScamperTraceHop:
        obj = cls._new()
        obj._t, obj._h = trace, hop
        return obj

    # -- kind tests ----------------------------------------------------

    def is_tcp(self) -> bool:
        return bool(self._h.flags & HOP_FLAG_TCP)

    def is_icmp(self) -> bool:
        return hop_is_icmp(self._h)

    def _icmp(self, v4: tuple[int, int | None], v6: tuple[int, int | None]) -> bool:
        a = self._h.addr
        if not self.is_icmp() or a is None:
            return False
        t, c = v4 if a.is_ipv4() else v6
        return self._h.icmp_type == t and (c is None or self._h.icmp_code == c)

    def is_icmp_q(self) -> bool:
        return hop_is_icmp_q(self._h)

    def is_icmp_unreach_port(self) -> bool:
        return self._icmp((3, 3), (1, 4))

    def is_icmp_echo_reply(self) -> bool:
        return self._icmp((0, None), (129, None))

    def is_icmp_ttl_exp(self) -> bool:
        return self._icmp((11, None), (3, None))

    def is_icmp_ptb(self) -> bool:
        return self._icmp((3, 4), (2, None))

    # -- properties ----------------------------------------------------------

    @property
    def src(self) -> ScamperAddr | None:
        return self._h.addr

    @property
    def name(self) -> str | None:
        return self._h.name

    @property
    def tx(self) -> _dt.datetime | None:
        tx = self._h.tx
        return to_datetime(tx) if tx is not None and tx[0] != 0 else None

    @property
    def rtt(self) -> _dt.timedelta:
        return us_to_timedelta(self._h.rtt)

    @property
    def attempt(self) -> int:
        return self._h.probe_id

    @property
    def probe_ttl(self) -> int:
        return self._h.probe_ttl

    @property
    def probe_size(self) -> int:
        return self._h.probe_size

    @property
    def probe_ipid(self) -> int | None:
        return self._h.probe_ipid

    @property
    def reply_ttl(self) -> int | None:
        return self._h.reply_ttl if self._h.flags & HOP_FLAG_REPLY_TTL else None

    @property
    def reply_tos(self) -> int:
        return self._h.reply_tos

    def _rxerr(self) -> bool:
        return bool(self._t.flags & FLAG_RXERR)

    @property
    def reply_size(self) -> int | None:
        return None if self._rxerr() else self._h.reply_size

    @property
    def reply_ipid(self) -> int | None:
        a = self._h.addr
        if self._rxerr() or a is None or not a.is_ipv4():
            return None
        return self._h.reply_ipid

    @property
    def icmp_type(self) -> int | None:
        return self._h.icmp_type if self.is_icmp() else None

    @property
    def icmp_code(self) -> int | None:
        return self._h.icmp_code if self.is_icmp() else None

    @property
    def icmp_nhmtu(self) -> int | None:
        return self._h.icmp_nhmtu if self.is_icmp_ptb() else None

    @property
    def icmp_q_ttl(self) -> int | None:
        return self._h.icmp_q_ttl if self.is_icmp_q() else None

    @property
    def icmp_q_tos(self) -> int | None:
        return self._h.icmp_q_tos if self.is_icmp_q() else None

    @property
    def icmp_q_ipl(self) -> int | None:
        return self._h.icmp_q_ipl if self.is_icmp_q() else None

    @property
    def icmp_q_ipid(self) -> int | None:
        return self._h.icmp_q_ipid if self.is_icmp_q() else None

    @property
    def tcp_flags(self) -> int | None:
        return self._h.tcp_flags if self.is_tcp() else None

    @property
    def icmp_exts(self) -> ScamperIcmpExts | None:
        return icmp_exts_from(self._h.icmpext)

    def __str__(self) -> str:
        name = f"{self._h.name} " if self._h.name else ""
        return f"{name}{self._h.addr} {fmt_ms(self._h.rtt)} ms"


_NOTE_TYPES = {1: "ptb", 2: "ptb-bad", 3: "silence"}


class ScamperTracePmtudNote(NoInit):
    """An inference recorded during path-MTU discovery."""

    __slots__ = ("_n", "_t")
    _n: PmtudNoteData
    _t: TraceData

    @classmethod
    def _create(cls, trace: TraceData, note: PmtudNoteData) -> ScamperTracePmtudNote:
        obj = cls._new()
        obj._t, obj._n = trace, note
        return obj

    @property
    def type_str(self) -> str:
        return _NOTE_TYPES.get(self._n.type, str(self._n.type))

    @property
    def nhmtu(self) -> int:
        return self._n.nhmtu

    @property
    def distance(self) -> int:
        """Hops from the measuring host (0 = the host itself).  A PTB is
        attributed to the hop that sent it: probe TTL minus the TTL left
        in the quoted packet; a silent hop is at its probe TTL."""
        h = self._n.hop
        if h is None:
            return 0
        if self._n.type == 3:
            return h.probe_ttl
        return max(h.probe_ttl - h.icmp_q_ttl, 0)

    def hop(self) -> ScamperTraceHop | None:
        h = self._n.hop
        return None if h is None else ScamperTraceHop._create(self._t, h)


class ScamperTracePmtud(NoInit):
    """Path-MTU discovery results attached to a trace."""

    __slots__ = ("_p", "_t")
    _p: PmtudData
    _t: TraceData

    @classmethod
    def _create(cls, trace: TraceData, pmtud: PmtudData) -> ScamperTracePmtud:
        obj = cls._new()
        obj._t, obj._p = trace, pmtud
        return obj

    @property
    def path_mtu(self) -> int:
        return self._p.pmtu

    @property
    def if_mtu(self) -> int:
        return self._p.ifmtu

    @property
    def out_mtu(self) -> int:
        return self._p.outmtu or self._p.ifmtu

    def notes(self) -> Generator[ScamperTracePmtudNote, None, None]:
        for n in self._p.notes:
            yield ScamperTracePmtudNote._create(self._t, n)


class ScamperTrace(ScamperResult):
    """A traceroute measurement (reference §7.2)."""

    __slots__ = ("_by_ttl", "_d")
    _d: TraceData
    _by_ttl: dict[int, list[TraceHopData]]

    @classmethod
    def _create(cls, data: TraceData, inst: Any = None) -> ScamperTrace:
        obj = cls._from_data(data, inst)
        by_ttl: dict[int, list[TraceHopData]] = {}
        for h in data.hops:
            by_ttl.setdefault(h.probe_ttl, []).append(h)
        obj._by_ttl = by_ttl
        return obj

    @property
    def src(self) -> ScamperAddr | None:
        return self._d.src

    @property
    def dst(self) -> ScamperAddr | None:
        return self._d.dst

    @property
    def rtr(self) -> ScamperAddr | None:
        return self._d.rtr

    @property
    def stop_reason(self) -> ScamperTraceStop | int:
        return enum_or_int(ScamperTraceStop, self._d.stop_reason)

    @property
    def stop_reason_str(self) -> str:
        return name_of(STOP_NAMES, self._d.stop_reason)

    def _is_stop(self, v: int) -> bool:
        return self._d.stop_reason == v

    def is_stop_noreason(self) -> bool:
        return self._is_stop(ScamperTraceStop.NoReason)

    def is_stop_completed(self) -> bool:
        return self._is_stop(ScamperTraceStop.Completed)

    def is_stop_unreach(self) -> bool:
        return self._is_stop(ScamperTraceStop.Unreach)

    def is_stop_icmp(self) -> bool:
        return self._is_stop(ScamperTraceStop.Icmp)

    def is_stop_loop(self) -> bool:
        return self._is_stop(ScamperTraceStop.Loop)

    def is_stop_gaplimit(self) -> bool:
        return self._is_stop(ScamperTraceStop.GapLimit)

    def is_stop_error(self) -> bool:
        return self._is_stop(ScamperTraceStop.Error)

    def is_stop_hoplimit(self) -> bool:
        return self._is_stop(ScamperTraceStop.HopLimit)

    def is_stop_gss(self) -> bool:
        return self._is_stop(ScamperTraceStop.GSS)

    def is_stop_halted(self) -> bool:
        return self._is_stop(ScamperTraceStop.Halted)

    def is_udp(self) -> bool:
        return self._d.type in UDP_METHODS

    def is_tcp(self) -> bool:
        return self._d.type in TCP_METHODS

    def is_icmp(self) -> bool:
        return self._d.type in ICMP_METHODS

    # -- hops ----------------------------------------------------------------

    @property
    def hop_count(self) -> int:
        return self._d.hop_count

    @property
    def stop_hop(self) -> int:
        return self._d.stop_hop or self._d.hop_count

    def hop(self, i: int) -> ScamperTraceHop | None:
        if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i <= 254:
            raise ValueError(f"invalid hop index: {i!r}")
        hs = self._by_ttl.get(i + 1)
        return ScamperTraceHop._create(self._d, hs[0]) if hs else None

    def hops(self) -> Iterator[ScamperTraceHop | None]:
        for i in range(min(self.stop_hop, 255)):
            yield self.hop(i)

    def addrs(self, reserved: bool = True) -> list[ScamperAddr]:
        out: list[ScamperAddr] = []
        seen: set[ScamperAddr] = set()
        for h in self.hops():
            if h is None or h.src is None or h.src in seen:
                continue
            if not reserved and h.src.is_reserved():
                continue
            seen.add(h.src)
            out.append(h.src)
        return out

    # -- parameters -----------------------------------------------------------

    @property
    def attempts(self) -> int:
        return self._d.attempts

    @property
    def hoplimit(self) -> int:
        return self._d.hoplimit

    @property
    def squeries(self) -> int:
        return self._d.squeries

    @property
    def gaplimit(self) -> int:
        return self._d.gaplimit

    @property
    def gapaction(self) -> int:
        return self._d.gapaction

    @property
    def firsthop(self) -> int:
        return self._d.firsthop

    @property
    def tos(self) -> int:
        return self._d.tos

    @property
    def wait_probe(self) -> _dt.timedelta:
        return _dt.timedelta(milliseconds=10 * self._d.wait_probe)

    @property
    def wait_timeout(self) -> _dt.timedelta:
        return _dt.timedelta(seconds=self._d.wait)

    @property
    def confidence(self) -> int:
        return self._d.confidence

    @property
    def probe_size(self) -> int:
        return self._d.probe_size

    @property
    def payload(self) -> bytes | None:
        return self._d.payload or None

    @property
    def probe_sport(self) -> int | None:
        return self._d.sport if self.is_udp() or self.is_tcp() else None

    @property
    def probe_dport(self) -> int | None:
        return self._d.dport if self.is_udp() or self.is_tcp() else None

    @property
    def probe_icmp_sum(self) -> int | None:
        if self.is_icmp() and self._d.flags & FLAG_ICMPCSUMDP:
            return self._d.dport
        return None

    @property
    def offset(self) -> int:
        return self._d.offset

    @property
    def probe_count(self) -> int:
        return self._d.probec

    @property
    def pmtud(self) -> ScamperTracePmtud | None:
        p = self._d.pmtud
        return None if p is None else ScamperTracePmtud._create(self._d, p)

    # -- renderings -------------------------------------------------------------

    def to_json(self) -> str | None:
        return trace_json(self._d)

    def to_text(self) -> str | None:
        return trace_text(self._d)

    def __str__(self) -> str:
        return self.to_text() or ""
