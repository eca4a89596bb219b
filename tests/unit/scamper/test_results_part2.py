"""Behaviour of the part-2 result classes beyond what the golden corpus
shows: MDA graphs with links (loopback traces find none), index accessors
that crashed the 20260420 module, and dealias technique accessors."""

from __future__ import annotations

import datetime as dt

from scamperlab.scamper import ScamperAddr, ScamperFile, ScamperTracelb
from scamperlab.scamper.warts import WartsDecoder
from scamperlab.scamper.warts.encoder import WartsEncoder
from scamperlab.wire.warts.tracelb import (
    TracelbData,
    TracelbLinkData,
    TracelbNodeData,
    TracelbProbeData,
    TracelbProbesetData,
    TracelbReplyData,
)

from .golden import GOLDEN

A = ScamperAddr


def _reply(addr: str, rx: tuple[int, int]) -> TracelbReplyData:
    r = TracelbReplyData(addr=A(addr), rx=rx, ipid=7, ttl=250, flags=0x01, icmp_type=11)
    r._wflags = frozenset({1, 2, 3, 4, 5, 8, 11})  # type: ignore[attr-defined]
    return r


def _probe(flowid: int, ttl: int, replies: list[TracelbReplyData]) -> TracelbProbeData:
    p = TracelbProbeData(tx=(100, 0), flowid=flowid, ttl=ttl, attempt=0, rxc=len(replies))
    p.replies = replies
    p._wflags = frozenset({1, 2, 3, 4, 5})  # type: ignore[attr-defined]
    return p


def _graph() -> ScamperTracelb:
    """192.0.2.1 -> (198.51.100.1, 198.51.100.2, *) -> 203.0.113.1, and a
    second link from 192.0.2.1 straight to 203.0.113.9."""
    t = TracelbData(src=A("192.0.2.100"), dst=A("203.0.113.1"), start=(100, 0), type=2)
    t.confidence, t.probec, t.wait_probe, t.wait_timeout = 95, 6, 25, 5
    for a in ("192.0.2.1", "203.0.113.1", "203.0.113.9"):
        n = TracelbNodeData(addr=A(a), flags=0x01, q_ttl=1)
        n._wflags = frozenset({2, 3, 4, 5})  # type: ignore[attr-defined]
        t.nodes.append(n)
    mid = TracelbProbesetData(
        probes=[
            _probe(1, 2, [_reply("198.51.100.2", (100, 5))]),
            _probe(2, 2, [_reply("198.51.100.1", (100, 6))]),
            _probe(3, 2, []),
        ]
    )
    last = TracelbProbesetData(probes=[_probe(1, 3, [_reply("203.0.113.1", (100, 9))])])
    t.links = [
        TracelbLinkData(near=0, far=1, hopc=2, sets=[mid, last]),
        TracelbLinkData(near=0, far=2, hopc=1, sets=[last]),
    ]
    t.nodes[0].linkc, t.nodes[0].links = 2, [0, 1]
    t.nodec, t.linkc = 3, 2
    for s in (mid, last):
        s.probec = len(s.probes)
    t._wflags = frozenset({5, 9, 10, 11, 12, 14, 16, 17, 18, 21, 22})  # type: ignore[attr-defined]
    return ScamperTracelb._create(t)


def test_tracelb_graph_views_survive_a_warts_round_trip() -> None:
    data = WartsEncoder().encode(_graph())
    (lb,) = WartsDecoder().decode(data)
    assert isinstance(lb, ScamperTracelb)
    assert (lb.node_count, lb.link_count) == (3, 2)
    n0 = lb.node(0)
    assert n0 is not None and n0.link_count == 2 and n0.icmp_q_ttl == 1
    link = lb.link(0)
    assert link is not None and link.length == 2
    assert str(link) == "192.0.2.1(198.51.100.1, 198.51.100.2, *) -> 203.0.113.1"
    assert str(lb.link(1)) == "192.0.2.1 -> 203.0.113.9"
    ps = link.probeset(0)
    assert ps is not None and len(ps) == 3 and ps.probe_count == 3
    probe = ps.probe(0)
    assert probe is not None and probe.attempt == 1 and probe.reply_count == 1
    assert str(probe) == "probe flowid: 1, ttl: 2, attempt: 1, tx: 100.000000"
    reply = probe.reply(0)
    assert reply is not None and reply.src == "198.51.100.2" and reply.ttl == 250
    assert reply.icmp_q_ttl is not None and reply.tcp_flags is None
    assert lb.node(3) is None and lb.link(-1) is None and probe.reply(1) is None
    assert lb.wait_probe == dt.timedelta(milliseconds=250)
    assert lb.to_text().splitlines()[1:] == ["192.0.2.1 -> 203.0.113.1", "192.0.2.1 -> 203.0.113.9"]
    assert '"nodes":[{"addr":"192.0.2.1", "q_ttl":1, "linkc":2' in (lb.to_json() or "")


def test_index_accessors_return_none_where_20260420_crashed() -> None:
    objs = list(ScamperFile(str(GOLDEN / "results.warts")))
    by = {type(o).__name__: o for o in objs}
    assert by["ScamperUdpprobe"].probe(99) is None
    assert by["ScamperUdpprobe"].probe(-1) is None
    assert by["ScamperSniff"].pkt(99) is None
    assert all(h.ecs is None for h in objs if type(h).__name__ == "ScamperHost" and not h.ecs)


def test_dealias_accessors() -> None:
    objs = [
        o
        for o in ScamperFile(str(GOLDEN / "results.warts"))
        if type(o).__name__ == "ScamperDealias"
    ]
    radargun = next(o for o in objs if o.is_radargun())
    assert radargun.probedef_count == 2 and radargun.wait_round == dt.timedelta(seconds=1)
    assert radargun.probe(-1) is None and radargun.probe(radargun.probe_count) is None
    first = radargun.probe()
    assert first is not None and first.reply().is_icmp_echo_reply()
    midardisc = next(o for o in objs if o.is_midardisc())
    assert midardisc.startat is not None and midardisc.to_json() is None
    ally = next(o for o in objs if o.is_ally())
    assert ally.to_text() == "127.0.0.1 127.0.0.2 not aliases\n" and ally.aliases() is None
