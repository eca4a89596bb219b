"""MDA traceroute results: ``ScamperTracelb`` and its nodes, links,
probesets, probes and replies (reference §7.3).

A tracelb record is a graph: nodes (interfaces), and links between two
nodes, each link holding one probeset per hop it spans.  The views below
share the decoded :class:`TracelbData`; links refer to nodes by index.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator
from typing import Any

from scamperlab.wire.warts.tracelb import (
    M_ICMP_ECHO,
    NODE_FLAG_QTTL,
    REPLY_FLAG_REPLY_TTL,
    TracelbData,
    TracelbLinkData,
    TracelbNodeData,
    TracelbProbeData,
    TracelbProbesetData,
    TracelbReplyData,
)

from ..addr import ScamperAddr
from ..enums import ScamperTracelbMethod
from ._tracelb_fmt import summary_text, tracelb_json, tracelb_text
from ._util import NoInit, enum_or_int, index_or_none, to_datetime, us_to_timedelta
from .common import ScamperIcmpExts, ScamperResult, icmp_exts_from

__all__ = [
    "ScamperTracelb",
    "ScamperTracelbLink",
    "ScamperTracelbNode",
    "ScamperTracelbProbe",
    "ScamperTracelbProbeset",
    "ScamperTracelbReply",
]


class ScamperTracelbReply(NoInit):
    """One response to an MDA probe."""

    __slots__ = ("_r",)
    _r: TracelbReplyData

    @classmethod
    def _create(cls, r: TracelbReplyData) -> ScamperTracelbReply:
        obj = cls._new()
        obj._r = r
        return obj

    @property
    def src(self) -> ScamperAddr | None:
        return self._r.addr

    @property
    def rx(self) -> _dt.datetime:
        return to_datetime(self._r.rx or (0, 0))  # type: ignore[return-value]

    @property
    def ipid(self) -> int | None:
        a = self._r.addr
        return self._r.ipid if a is not None and a.is_ipv4() else None

    @property
    def ttl(self) -> int | None:
        return self._r.ttl if self._r.flags & REPLY_FLAG_REPLY_TTL else None

    @property
    def icmp_type(self) -> int | None:
        return None if self._r.is_tcp() else self._r.icmp_type

    @property
    def icmp_code(self) -> int | None:
        return None if self._r.is_tcp() else self._r.icmp_code

    @property
    def icmp_q_ttl(self) -> int | None:
        return self._r.q_ttl if self._r.is_icmp_q() else None

    @property
    def icmp_q_tos(self) -> int | None:
        return self._r.q_tos if self._r.is_icmp_q() else None

    @property
    def tcp_flags(self) -> int | None:
        return self._r.tcp_flags if self._r.is_tcp() else None

    @property
    def icmp_exts(self) -> ScamperIcmpExts | None:
        return icmp_exts_from(self._r.icmpext)


class ScamperTracelbProbe(NoInit):
    """One probe sent along a link (with its flow id and attempt)."""

    __slots__ = ("_p",)
    _p: TracelbProbeData

    @classmethod
    def _create(cls, p: TracelbProbeData) -> ScamperTracelbProbe:
        obj = cls._new()
        obj._p = p
        return obj

    @property
    def tx(self) -> _dt.datetime:
        return to_datetime(self._p.tx or (0, 0))  # type: ignore[return-value]

    @property
    def flowid(self) -> int:
        return self._p.flowid

    @property
    def ttl(self) -> int:
        return self._p.ttl

    @property
    def attempt(self) -> int:
        return self._p.attempt + 1

    @property
    def reply_count(self) -> int:
        return len(self._p.replies)

    def reply(self, i: int) -> ScamperTracelbReply | None:
        r = index_or_none(self._p.replies, i)
        return None if r is None else ScamperTracelbReply._create(r)

    def __str__(self) -> str:
        sec, usec = self._p.tx or (0, 0)
        return (
            f"probe flowid: {self._p.flowid}, ttl: {self._p.ttl}, "
            f"attempt: {self._p.attempt + 1}, tx: {sec}.{usec:06d}"
        )


class ScamperTracelbProbeset(NoInit):
    """The probes sent to discover one hop of a link."""

    __slots__ = ("_s",)
    _s: TracelbProbesetData

    @classmethod
    def _create(cls, s: TracelbProbesetData) -> ScamperTracelbProbeset:
        obj = cls._new()
        obj._s = s
        return obj

    @property
    def probe_count(self) -> int:
        return len(self._s.probes)

    def __len__(self) -> int:
        return len(self._s.probes)

    def probe(self, i: int) -> ScamperTracelbProbe | None:
        p = index_or_none(self._s.probes, i)
        return None if p is None else ScamperTracelbProbe._create(p)

    def __iter__(self) -> Iterator[ScamperTracelbProbe]:
        return (ScamperTracelbProbe._create(p) for p in self._s.probes)


class ScamperTracelbNode(NoInit):
    """An interface found by the MDA traceroute."""

    __slots__ = ("_n", "_t")
    _t: TracelbData
    _n: TracelbNodeData

    @classmethod
    def _create(cls, t: TracelbData, n: TracelbNodeData) -> ScamperTracelbNode:
        obj = cls._new()
        obj._t, obj._n = t, n
        return obj

    @property
    def src(self) -> ScamperAddr | None:
        return self._n.addr

    @property
    def name(self) -> str | None:
        return self._n.name

    @property
    def icmp_q_ttl(self) -> int | None:
        return self._n.q_ttl if self._n.flags & NODE_FLAG_QTTL else None

    @property
    def link_count(self) -> int:
        return len(self._n.links)

    def link(self, i: int) -> ScamperTracelbLink | None:
        li = index_or_none(self._n.links, i)
        return None if li is None else ScamperTracelbLink._create(self._t, self._t.links[li])

    def links(self) -> Iterator[ScamperTracelbLink]:
        return (ScamperTracelbLink._create(self._t, self._t.links[li]) for li in self._n.links)


class ScamperTracelbLink(NoInit):
    """A link between two nodes, possibly across unresponsive hops."""

    __slots__ = ("_l", "_t")
    _t: TracelbData
    _l: TracelbLinkData

    @classmethod
    def _create(cls, t: TracelbData, link: TracelbLinkData) -> ScamperTracelbLink:
        obj = cls._new()
        obj._t, obj._l = t, link
        return obj

    @property
    def near(self) -> ScamperTracelbNode | None:
        return ScamperTracelbNode._create(self._t, self._t.nodes[self._l.near])

    @property
    def far(self) -> ScamperTracelbNode | None:
        far = self._l.far
        return None if far is None else ScamperTracelbNode._create(self._t, self._t.nodes[far])

    @property
    def length(self) -> int:
        return self._l.hopc

    def probeset(self, i: int) -> ScamperTracelbProbeset | None:
        s = index_or_none(self._l.sets, i)
        return None if s is None else ScamperTracelbProbeset._create(s)

    def __str__(self) -> str:
        near = self._t.nodes[self._l.near].addr
        out = str(near) if near is not None else "*"
        for s in self._l.sets[: max(self._l.hopc - 1, 0)]:
            text = summary_text(s)
            out += " -> *" if text == "*" else text
        far = self._l.far
        far_addr = self._t.nodes[far].addr if far is not None else None
        return out + (f" -> {far_addr}" if far_addr is not None else " -> *")


class ScamperTracelb(ScamperResult):
    """An MDA traceroute (reference §7.3)."""

    __slots__ = ("_d",)
    _d: TracelbData

    @classmethod
    def _create(cls, data: TracelbData, inst: Any = None) -> ScamperTracelb:
        return cls._from_data(data, inst)

    @property
    def method(self) -> ScamperTracelbMethod | int:
        return enum_or_int(ScamperTracelbMethod, self._d.type)

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
    def node_count(self) -> int:
        return len(self._d.nodes)

    def node(self, i: int) -> ScamperTracelbNode | None:
        n = index_or_none(self._d.nodes, i)
        return None if n is None else ScamperTracelbNode._create(self._d, n)

    def nodes(self) -> Iterator[ScamperTracelbNode]:
        return (ScamperTracelbNode._create(self._d, n) for n in self._d.nodes)

    @property
    def link_count(self) -> int:
        return len(self._d.links)

    def link(self, i: int) -> ScamperTracelbLink | None:
        link = index_or_none(self._d.links, i)
        return None if link is None else ScamperTracelbLink._create(self._d, link)

    def links(self) -> Iterator[ScamperTracelbLink]:
        return (ScamperTracelbLink._create(self._d, link) for link in self._d.links)

    @property
    def attempts(self) -> int:
        return self._d.attempts

    @property
    def gaplimit(self) -> int:
        return self._d.gaplimit

    @property
    def firsthop(self) -> int:
        return self._d.firsthop

    @property
    def tos(self) -> int:
        return self._d.tos

    @property
    def wait_timeout(self) -> _dt.timedelta:
        return _dt.timedelta(seconds=self._d.wait_timeout)

    @property
    def wait_probe(self) -> _dt.timedelta:
        return us_to_timedelta(self._d.wait_probe * 10_000)

    @property
    def confidence(self) -> int:
        return self._d.confidence

    @property
    def probe_count(self) -> int:
        return self._d.probec

    @property
    def probe_size(self) -> int:
        return self._d.probe_size

    @property
    def probe_sport(self) -> int | None:
        return self._d.sport if self.is_udp() or self.is_tcp() else None

    @property
    def probe_dport(self) -> int | None:
        return self._d.dport if self.is_udp() or self.is_tcp() else None

    @property
    def probe_icmp_id(self) -> int | None:
        return self._d.sport if self.is_icmp() else None

    def is_udp(self) -> bool:
        return self._d.is_udp()

    def is_tcp(self) -> bool:
        return self._d.is_tcp()

    def is_icmp(self) -> bool:
        return self._d.type == M_ICMP_ECHO

    def to_json(self) -> str | None:
        return tracelb_json(self._d)

    def to_text(self) -> str | None:
        return tracelb_text(self._d)

    def __str__(self) -> str:
        return self.to_text() or ""
