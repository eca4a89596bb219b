"""Result-object behaviour from the reference checklist (items 52-61),
exercised on decoded golden data."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from scamperlab.scamper.enums import ScamperHostStop, ScamperPingStop, ScamperTraceStop
from scamperlab.scamper.warts import WartsDecoder

from .golden import GOLDEN


@pytest.fixture(scope="module")
def objs() -> dict[tuple[str, int], Any]:
    out = {}
    for o in WartsDecoder().decode((GOLDEN / "results.warts").read_bytes()):
        if hasattr(o, "userid"):
            out[(type(o).__name__, o.userid)] = o
    return out


def test_ping_statistics_and_replies(objs: dict[tuple[str, int], Any]) -> None:
    p = objs[("ScamperPing", 1)]
    assert p.stop_reason is ScamperPingStop.Completed and p.stop_reason_str == "done"
    assert (p.nreplies, p.ndups, p.nloss, p.nerrs) == (3, 0, 0, 0)
    for v in (p.min_rtt, p.max_rtt, p.avg_rtt, p.stddev_rtt):
        assert isinstance(v, dt.timedelta)
    replies = list(p)
    assert [r.attempt for r in replies] == [1, 2, 3]
    assert all(r.rx == r.tx + r.rtt for r in replies)
    assert p.reply(0) is not None and p.reply(3) is None and p.reply(-1) is None
    silent = objs[("ScamperPing", 8)]  # tcp-syn, no replies
    assert silent.nreplies == 0 and list(silent) == [] and silent.reply(0) is None
    assert silent.min_rtt is None and silent.avg_rtt is None and silent.stddev_rtt is None
    assert str(replies[0]) == "84 bytes from 127.0.0.1, seq=0 ttl=64 time=0.342 ms"


def test_ping_options(objs: dict[tuple[str, int], Any]) -> None:
    rr = objs[("ScamperPing", 16)]
    assert [str(a) for a in next(iter(rr)).ip_rr] == ["127.0.0.1"] * 3
    ts = objs[("ScamperPing", 4)]
    r = next(iter(ts))
    assert r.is_icmp_tsreply() and isinstance(r.icmp_tso, dt.timedelta)
    assert r.icmp_tso.seconds == 6 * 3600 + 59 * 60 + 27
    udp = objs[("ScamperPing", 6)]
    assert udp.is_vary_dport() and udp.probe_dport == 33435
    assert all(r.is_from_target() and r.is_icmp_unreach_port() for r in udp)


def test_trace_hops(objs: dict[tuple[str, int], Any]) -> None:
    t = objs[("ScamperTrace", 48)]  # tcp trace, gaplimit, no replies
    assert t.stop_reason is ScamperTraceStop.GapLimit and t.is_stop_gaplimit()
    assert list(t.hops()) == [None] * t.stop_hop == [None] * 5
    assert t.addrs() == []
    for bad in (255, -1, "1", True):
        with pytest.raises(ValueError, match="invalid hop index"):
            t.hop(bad)
    t2 = objs[("ScamperTrace", 21)]  # all attempts: 2 replies at ttl 1
    assert t2.probe_count == 2 and len(list(t2.hops())) == 1
    h = t2.hop(0)
    assert h is not None and h.attempt == 1 and h.probe_ttl == 1
    assert [str(a) for a in t2.addrs()] == ["127.0.0.1"]
    assert t2.addrs(reserved=False) == []
    assert str(t2) == t2.to_text() and t2.to_text().endswith("0.019 ms  0.021 ms")


def test_host_sections(objs: dict[tuple[str, int], Any]) -> None:
    h = objs[("ScamperHost", 29)]  # CNAME chain
    assert h.stop_reason is ScamperHostStop.Completed
    assert sorted(str(a) for a in h.ans_addrs()) == ["127.0.0.1", "127.0.0.2"]
    assert [rr.rtype for rr in h.ans(["A"])] == [1, 1]
    with pytest.raises(ValueError):
        h.ans(["cname"])
    with pytest.raises(ValueError):
        h.nss([5])
    assert h.an(0).cname == "www.lab.example" and h.an(0).addr is None
    assert h.an(3) is None and h.an(-1) is None
    ns = objs[("ScamperHost", 24)]
    assert ns.ans_nses() == ["ns1.lab.example", "ns2.lab.example"]
    assert len(list(ns.ars(["A"]))) == 2 == len(list(ns.ars(["mx"])))
    txt = objs[("ScamperHost", 25)]
    assert [list(t) for t in txt.ans_txts()] == [["v=golden1", "second string"], ["hello world"]]
    assert txt.an(0).txt.str(1) == "second string" and txt.an(0).txt.strc == 2
    mx = objs[("ScamperHost", 27)].ans_mxes()
    assert [(m.pref, m.exch) for m in mx] == [(10, "mx1.lab.example")]


def test_host_without_response(objs: dict[tuple[str, int], Any]) -> None:
    h = objs[("ScamperHost", 35)]
    assert h.stop_reason_str == "timeout"
    assert h.rcode is None and h.rtt is None and h.tx is None and h.rx is None
    assert h.ancount == 0 and h.an(0) is None and list(h.ans()) == []
    assert h.start is not None and h.wait_timeout == dt.timedelta(seconds=1)
    assert h.mqtypes == [] and h.ecs is None
    assert objs[("ScamperHost", 34)].ecs == "192.0.2.0/24"
