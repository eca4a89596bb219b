"""Ping results: ``ScamperPing``, ``ScamperPingReply``,
``ScamperPingReplyIPTS`` (reference §7.1).

The objects are read-only views over
:class:`~scamperlab.wire.warts.ping.PingData`.  Replies are grouped by
probe id; the statistics are scamper's (see :mod:`._ping_stats`).
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.ping import (
    M_ICMP_TIME,
    M_TCP_ACK_SPORT,
    M_UDP_DPORT,
    REPLY_FLAG_PROBE_IPID,
    REPLY_FLAG_REPLY_IPID,
    REPLY_FLAG_REPLY_TOS,
    REPLY_FLAG_REPLY_TTL,
    STOP_NAMES,
    VARY_SPORT_METHODS,
    PingData,
    PingReplyData,
)

from ..addr import ScamperAddr
from ..enums import ScamperPingStop
from ._ping_fmt import ping_json, ping_text
from ._ping_stats import PingStats, RttStats, ping_stats, replies_by_probe
from ._util import NoInit, enum_or_int, fmt_ms, name_of, to_datetime, us_to_timedelta
from .common import ScamperResult

__all__ = ["ScamperPing", "ScamperPingReply", "ScamperPingReplyIPTS"]


class ScamperPingReplyIPTS(NoInit):
    """Contents of an IPv4 timestamp option in a reply."""

    __slots__ = ("_ips", "_tss")
    _tss: list[int]
    _ips: list[ScamperAddr] | None

    @classmethod
    def _create(cls, tss: list[int], ips: list[ScamperAddr] | None) -> ScamperPingReplyIPTS:
        obj = cls._new()
        obj._tss, obj._ips = tss, ips
        return obj

    def __len__(self) -> int:
        return len(self._tss)

    def __iter__(self) -> Iterator[tuple[ScamperAddr | None, _dt.timedelta]]:
        for i, ts in enumerate(self._tss):
            a = self._ips[i] if self._ips is not None else None
            yield a, _dt.timedelta(milliseconds=ts)

    def has_addrs(self) -> bool:
        return self._ips is not None

    def addrs(self) -> list[ScamperAddr] | None:
        return list(self._ips) if self._ips is not None else None

    def timestamps(self) -> list[_dt.timedelta]:
        return [_dt.timedelta(milliseconds=ts) for ts in self._tss]


class ScamperPingReply(NoInit):
    """One reply to one ping probe."""

    __slots__ = ("_p", "_r")
    _r: PingReplyData
    _p: PingData

    @classmethod
    def _create(cls, ping: PingData, reply: PingReplyData) -> ScamperPingReply:
        obj = cls._new()
        obj._p, obj._r = ping, reply
        return obj

    # -- reply kind ------------------------------------------------------

    def is_icmp(self) -> bool:
        return self._r.is_icmp()

    def is_tcp(self) -> bool:
        return self._r.is_tcp()

    def is_udp(self) -> bool:
        return self._r.is_udp()

    def is_icmp_echo_reply(self) -> bool:
        return self._r.icmp_is((0, None), (129, None))

    def is_icmp_unreach(self) -> bool:
        return self._r.icmp_is((3, None), (1, None))

    def is_icmp_unreach_port(self) -> bool:
        return self._r.icmp_is((3, 3), (1, 4))

    def is_icmp_ttl_exp(self) -> bool:
        return self._r.icmp_is((11, None), (3, None))

    def is_icmp_tsreply(self) -> bool:
        return self._r.is_icmp_tsreply()

    def is_icmp_ptb(self) -> bool:
        return self._r.is_icmp_ptb()

    def is_from_target(self) -> bool:
        return self._p.is_from_target(self._r)

    # -- properties --------------------------------------------------------

    @property
    def src(self) -> ScamperAddr | None:
        return self._r.addr

    @property
    def tx(self) -> _dt.datetime | None:
        return to_datetime(self._r.tx)

    @property
    def rtt(self) -> _dt.timedelta:
        return us_to_timedelta(self._r.rtt)

    @property
    def rx(self) -> _dt.datetime | None:
        tx = self.tx
        return None if tx is None else tx + self.rtt

    @property
    def attempt(self) -> int:
        return self._r.probe_id + 1

    @property
    def probe_ipid(self) -> int | None:
        return self._r.probe_ipid if self._r.flags & REPLY_FLAG_PROBE_IPID else None

    @property
    def probe_sport(self) -> int | None:
        return self._r.probe_sport or None

    @property
    def reply_proto(self) -> int:
        return self._r.reply_proto

    @property
    def reply_ttl(self) -> int | None:
        return self._r.reply_ttl if self._r.flags & REPLY_FLAG_REPLY_TTL else None

    @property
    def reply_tos(self) -> int | None:
        return self._r.reply_tos if self._r.flags & REPLY_FLAG_REPLY_TOS else None

    @property
    def reply_size(self) -> int:
        return self._r.reply_size

    @property
    def reply_ipid(self) -> int | None:
        if not self._r.flags & REPLY_FLAG_REPLY_IPID:
            return None
        a = self._r.addr
        return self._r.reply_ipid if a is not None and a.is_ipv4() else self._r.reply_ipid32

    @property
    def icmp_type(self) -> int | None:
        return self._r.icmp_type if self.is_icmp() else None

    @property
    def icmp_code(self) -> int | None:
        return self._r.icmp_code if self.is_icmp() else None

    @property
    def icmp_nhmtu(self) -> int | None:
        return self._r.icmp_nhmtu if self.is_icmp_ptb() else None

    def _ts(self, i: int) -> _dt.timedelta | None:
        ts = self._r.tsreply
        if ts is None or not self.is_icmp_tsreply():
            return None
        return _dt.timedelta(milliseconds=ts[i])

    @property
    def icmp_tso(self) -> _dt.timedelta | None:
        return self._ts(0)

    @property
    def icmp_tsr(self) -> _dt.timedelta | None:
        return self._ts(1)

    @property
    def icmp_tst(self) -> _dt.timedelta | None:
        return self._ts(2)

    @property
    def tcp_flags(self) -> int | None:
        return self._r.tcp_flags if self.is_tcp() else None

    @property
    def tcp_mss(self) -> int | None:
        return self._r.tcp_mss or None if self.is_tcp() else None

    @property
    def ifname(self) -> str | None:
        return self._r.ifname

    @property
    def ip_rr(self) -> list[ScamperAddr] | None:
        return list(self._r.v4rr) if self._r.v4rr is not None else None

    @property
    def ip_ts(self) -> ScamperPingReplyIPTS | None:
        ts = self._r.v4ts
        return None if ts is None else ScamperPingReplyIPTS._create(ts[0], ts[1])

    def __str__(self) -> str:
        r = self._r
        return (
            f"{r.reply_size} bytes from {r.addr}, seq={r.probe_id} "
            f"ttl={r.reply_ttl} time={fmt_ms(r.rtt)} ms"
        )


class ScamperPing(ScamperResult):
    """A ping measurement (reference §7.1)."""

    __slots__ = ("_d", "_probes", "_stats")
    _d: PingData
    _probes: dict[int, list[PingReplyData]]
    _stats: PingStats | None

    @classmethod
    def _create(cls, data: PingData, inst: Any = None) -> ScamperPing:
        obj = cls._from_data(data, inst)
        obj._probes = replies_by_probe(data)
        obj._stats = None
        return obj

    # -- addresses and parameters --------------------------------------------

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
    def stop_reason(self) -> ScamperPingStop | int:
        return enum_or_int(ScamperPingStop, self._d.stop_reason)

    @property
    def stop_reason_str(self) -> str:
        return name_of(STOP_NAMES, self._d.stop_reason)

    @property
    def attempts(self) -> int:
        return self._d.probe_count

    @property
    def probe_count(self) -> int:
        return self._d.ping_sent

    @property
    def probe_size(self) -> int:
        return self._d.probe_size

    @property
    def payload(self) -> bytes | None:
        return self._d.data

    @property
    def probe_ttl(self) -> int:
        return self._d.probe_ttl

    @property
    def probe_tos(self) -> int:
        return self._d.tos

    def is_icmp(self) -> bool:
        return self._d.is_icmp()

    def is_icmp_time(self) -> bool:
        return self._d.method == M_ICMP_TIME

    def is_tcp(self) -> bool:
        return self._d.is_tcp()

    def is_tcp_ack_sport(self) -> bool:
        return self._d.method == M_TCP_ACK_SPORT

    def is_udp(self) -> bool:
        return self._d.is_udp()

    def is_vary_sport(self) -> bool:
        return self._d.method in VARY_SPORT_METHODS

    def is_vary_dport(self) -> bool:
        return self._d.method == M_UDP_DPORT

    @property
    def probe_sport(self) -> int | None:
        return self._d.sport if self.is_tcp() or self.is_udp() else None

    @property
    def probe_dport(self) -> int | None:
        return self._d.dport if self.is_tcp() or self.is_udp() else None

    @property
    def probe_icmp_sum(self) -> int | None:
        return self._d.icmpsum if self.is_icmp() else None

    @property
    def probe_tcp_seq(self) -> int | None:
        return self._d.tcpseq if self.is_tcp() else None

    @property
    def probe_tcp_ack(self) -> int | None:
        return self._d.tcpack if self.is_tcp() else None

    @property
    def probe_tcp_mss(self) -> int | None:
        return self._d.tcp_mss or None

    @property
    def probe_tsaddrs(self) -> list[ScamperAddr] | None:
        return list(self._d.tsps) if self._d.tsps is not None else None

    @property
    def stop_count(self) -> int:
        return self._d.reply_count

    @property
    def reply_pmtu(self) -> int:
        return self._d.reply_pmtu

    @property
    def wait_probe(self) -> _dt.timedelta:
        return us_to_timedelta(self._d.wait_probe)

    @property
    def wait_timeout(self) -> _dt.timedelta:
        return us_to_timedelta(self._d.wait_timeout)

    # -- replies ---------------------------------------------------------------

    def reply(self, i: int) -> ScamperPingReply | None:
        if not isinstance(i, int) or i < 0 or i >= self._d.ping_sent:
            return None
        rs = self._probes.get(i)
        return ScamperPingReply._create(self._d, rs[0]) if rs else None

    def replies(self) -> Iterator[ScamperPingReply]:
        for pid, rs in self._probes.items():
            if pid < self._d.ping_sent and rs:
                yield ScamperPingReply._create(self._d, rs[0])

    def __iter__(self) -> Iterator[ScamperPingReply]:
        return self.replies()

    # -- statistics --------------------------------------------------------------

    def _compute_stats(self) -> PingStats:
        if self._stats is None:
            self._stats = ping_stats(self._d)
        return self._stats

    @property
    def nreplies(self) -> int:
        return self._compute_stats().nreplies

    @property
    def ndups(self) -> int:
        return self._compute_stats().ndups

    @property
    def nloss(self) -> int:
        return self._compute_stats().nloss

    @property
    def nerrs(self) -> int:
        return self._compute_stats().nerrs

    def _rtts(self) -> RttStats | None:
        return self._compute_stats().rtt

    @property
    def min_rtt(self) -> _dt.timedelta | None:
        rtt = self._rtts()
        return None if rtt is None else us_to_timedelta(rtt.min)

    @property
    def max_rtt(self) -> _dt.timedelta | None:
        rtt = self._rtts()
        return None if rtt is None else us_to_timedelta(rtt.max)

    @property
    def avg_rtt(self) -> _dt.timedelta | None:
        rtt = self._rtts()
        return None if rtt is None else us_to_timedelta(rtt.avg)

    @property
    def stddev_rtt(self) -> _dt.timedelta | None:
        rtt = self._rtts()
        return None if rtt is None else us_to_timedelta(rtt.stddev)

    # -- renderings --------------------------------------------------------------

    def to_json(self) -> str | None:
        return ping_json(self._d, self._compute_stats())

    def to_text(self) -> str | None:
        return ping_text(self._d, self._compute_stats())

    def __str__(self) -> str:
        return self.to_text() or ""
