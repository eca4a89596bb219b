"""``sc_warts2json`` field checks for the part-2 record types: tracelb,
dealias and udpprobe (``sc_warts2json`` prints nothing for http, sniff,
midarest or midardisc).  Same rules as :mod:`.w2j`: every key must be
mapped, values come from the public API wherever it has them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from scamperlab.scamper.results.dealias import ScamperDealias, ScamperDealiasReply
from scamperlab.scamper.results.tracelb import ScamperTracelb
from scamperlab.scamper.results.udpprobe import ScamperUdpprobe
from scamperlab.wire.warts.dealias import METHOD_NAMES as DEALIAS_METHODS
from scamperlab.wire.warts.tracelb import METHOD_NAMES as TRACELB_METHODS

from .w2j import Checker, Diffs, _td_us, _tv


def _ignore(_v: object) -> None:
    return None


def _tvd(d: dict[str, int]) -> dt.timedelta:
    return dt.timedelta(seconds=d["sec"], microseconds=d["usec"])


def check_tracelb(t: ScamperTracelb, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    cs = (_td_us(t.wait_probe) or 0) // 10_000
    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "tracelb"),
            "version": _ignore,
            "userid": lambda v: c.eq("userid", v, t.userid),
            "method": lambda v: c.eq("method", v, TRACELB_METHODS[int(t.method)]),
            "src": lambda v: c.eq("src", v, str(t.src)),
            "dst": lambda v: c.eq("dst", v, str(t.dst)),
            "rtr": lambda v: c.eq("rtr", v, str(t.rtr)),
            "sport": lambda v: c.eq("sport", v, t.probe_sport),
            "dport": lambda v: c.eq("dport", v, t.probe_dport),
            "start": lambda v: c.eq("start", _tv(v), t.start),
            "probe_size": lambda v: c.eq("probe_size", v, t.probe_size),
            "firsthop": lambda v: c.eq("firsthop", v, t.firsthop),
            "attempts": lambda v: c.eq("attempts", v, t.attempts),
            "confidence": lambda v: c.eq("confidence", v, t.confidence),
            "tos": lambda v: c.eq("tos", v, t.tos),
            "gaplimit": lambda v: c.eq("gaplimit", v, t.gaplimit),
            "wait_timeout": lambda v: c.eq("wait_timeout", v, t.wait_timeout.seconds),
            # 20260420 prints hundredths of a second, 20211212 milliseconds
            "wait_probe": lambda v: c.eq("wait_probe", v in (cs, cs * 10), True),
            "probec": lambda v: c.eq("probec", v, t.probe_count),
            "probec_max": lambda v: c.eq("probec_max", v, t._d.probec_max),
            "nodec": lambda v: c.eq("nodec", v, t.node_count),
            "linkc": lambda v: c.eq("linkc", v, t.link_count),
            "nodes": lambda v: c.eq("nodes", len(v), sum(1 for n in t.nodes() if n.link_count)),
        },
    )


def _check_dealias_reply(r: ScamperDealiasReply, j: dict[str, Any], c: Checker) -> None:
    c.run(
        j,
        {
            "src": lambda v: c.eq("src", v, str(r.src)),
            "rx": lambda v: c.eq("rx", _tv(v), r.rx),
            "ttl": lambda v: c.eq("ttl", v, r.ttl),
            "size": lambda v: c.eq("size", v, r.size),
            "ipid": lambda v: c.eq("ipid", v, r.ipid),
            "proto": lambda v: c.eq("proto", v, r._r.proto),  # no public accessor
            "icmp_type": lambda v: c.eq("icmp_type", v, r.icmp_type),
            "icmp_code": lambda v: c.eq("icmp_code", v, r.icmp_code),
            "icmp_q_ttl": lambda v: c.eq("icmp_q_ttl", v, r.icmp_q_ttl),
            "tcp_flags": lambda v: c.eq("tcp_flags", v, r.tcp_flags),
        },
    )


def _check_probedef(i: int, pd: Any, j: dict[str, Any], p: Checker) -> None:
    p.run(
        j,
        {
            "id": lambda x: p.eq("id", x, i),
            "src": lambda x: p.eq("src", x, str(pd.src)),
            "dst": lambda x: p.eq("dst", x, str(pd.dst)),
            "ttl": lambda x: p.eq("ttl", x, pd.ttl),
            "size": lambda x: p.eq("size", x, pd.size),
            "method": lambda x: p.eq("method", x, pd._method),
            "udp_sport": lambda x: p.eq("udp_sport", x, pd.sport),
            "udp_dport": lambda x: p.eq("udp_dport", x, pd.dport),
            "tcp_sport": lambda x: p.eq("tcp_sport", x, pd.sport),
            "tcp_dport": lambda x: p.eq("tcp_dport", x, pd.dport),
            "tcp_flags": _ignore,
            "icmp_id": lambda x: p.eq("icmp_id", x, pd.icmp_id),
            "icmp_csum": lambda x: p.eq("icmp_csum", x, pd.icmp_sum),
            "mtu": _ignore,
        },
    )


def _check_dealias_probe(defs: list[Any], pr: Any, j: dict[str, Any], p: Checker) -> None:
    reps = list(pr.replies())

    def replies(x: list[dict[str, Any]]) -> None:
        p.eq("replies.len", len(x), len(reps))
        for jr, r in zip(x, reps, strict=False):
            _check_dealias_reply(r, jr, p)

    p.run(
        j,
        {
            "probedef_id": lambda x: p.eq("probedef", defs[x].dst, pr.probedef.dst),
            "seq": lambda x: p.eq("seq", x, pr.seq),
            "tx": lambda x: p.eq("tx", _tv(x), pr.tx),
            "ipid": lambda x: p.eq("ipid", x, pr.ipid),
            "replies": replies,
        },
    )


def check_dealias(o: ScamperDealias, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    d = o._d
    ms = (_td_us(o.wait_probe) or 0) // 1000
    defs = list(o.probedefs())

    def probedefs(v: list[dict[str, Any]]) -> None:
        c.eq("probedefs.len", len(v), len(defs))
        for i, (jp, pd) in enumerate(zip(v, defs, strict=False)):
            _check_probedef(i, pd, jp, Checker(diffs, f"{path}.probedefs[{i}]"))

    def probes(v: list[dict[str, Any]]) -> None:
        ps = list(o.probes())
        c.eq("probes.len", len(v), len(ps))
        for i, (jp, pr) in enumerate(zip(v, ps, strict=False)):
            _check_dealias_probe(defs, pr, jp, Checker(diffs, f"{path}.probes[{i}]"))

    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "dealias"),
            "version": _ignore,
            "method": lambda v: c.eq("method", v, DEALIAS_METHODS[d.method]),
            "userid": lambda v: c.eq("userid", v, o.userid),
            "result": lambda v: c.eq("aliases", v == "aliases", o.has_aliases()),
            "start": lambda v: c.eq("start", _tv(v), o.start),
            "wait_probe": lambda v: c.eq("wait_probe", v, ms),
            "wait_round": lambda v: c.eq("wait_round", v, (_td_us(o.wait_round) or 0) // 1000),
            "wait_timeout": lambda v: c.eq(
                "wait_timeout", v, (_td_us(o.wait_timeout) or 0) // 1_000_000
            ),
            "attempts": _ignore,  # technique parameters without a module accessor
            "fudge": _ignore,
            "flags": _ignore,
            "replyc": _ignore,
            "bump_limit": _ignore,
            "a": lambda v: c.eq("a", v, str(d.a)),
            "b": lambda v: c.eq("b", v, f"{d.b}/{d.prefix}"),
            "ab": _ignore,
            "xs": _ignore,
            "probedefs": probedefs,
            "probes": probes,
        },
    )


def _check_udp_probe(pr: Any, j: dict[str, Any], p: Checker) -> None:
    reps = list(pr)

    def replies(x: list[dict[str, Any]]) -> None:
        p.eq("replies.len", len(x), len(reps))
        for jr, r in zip(x, reps, strict=False):
            _check_udp_reply(r, jr, p)

    p.run(
        j,
        {
            "tx": lambda x: p.eq("tx", _tv(x), pr.tx),
            "sport": lambda x: p.eq("sport", x, pr.sport),
            "replyc": lambda x: p.eq("replyc", x, pr.reply_count),
            "replies": replies,
        },
    )


def _check_udp_reply(r: Any, j: dict[str, Any], p: Checker) -> None:
    p.run(
        j,
        {
            "rx": lambda y: p.eq("rx", _tv(y), r.rx),
            "rtt": _ignore,
            "len": lambda y: p.eq("len", y, len(r.payload or b"")),
            "data": lambda y: p.eq("data", y, (r.payload or b"").hex()),
            "ifname": lambda y: p.eq("ifname", y, r.ifname),
        },
    )


def check_udpprobe(u: ScamperUdpprobe, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    probes = list(u)

    def probe_list(v: list[dict[str, Any]]) -> None:
        c.eq("probes.len", len(v), len(probes))
        for i, (jp, pr) in enumerate(zip(v, probes, strict=False)):
            _check_udp_probe(pr, jp, Checker(diffs, f"{path}.probes[{i}]"))

    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "udpprobe"),
            "version": _ignore,
            "src": lambda v: c.eq("src", v, str(u.src)),
            "dst": lambda v: c.eq("dst", v, str(u.dst)),
            "userid": lambda v: c.eq("userid", v, u.userid),
            "start": lambda v: c.eq("start", _tv(v), u.start),
            "sport": lambda v: c.eq("sport", v, u.sport),
            "dport": lambda v: c.eq("dport", v, u.dport),
            "wait_timeout": lambda v: c.eq("wait_timeout", _tvd(v), u.wait_timeout),
            "stop_reason": lambda v: c.eq("stop_reason", v, u.stop_reason_str),
            "data": lambda v: c.eq("data", v, (u.payload or b"").hex()),
            "len": lambda v: c.eq("len", v, len(u.payload or b"")),
            "probe_count": lambda v: c.eq("probe_count", v, u.attempts),
            "probe_sent": lambda v: c.eq("probe_sent", v, u.probe_sent),
            "stop_count": lambda v: c.eq("stop_count", v, u.stop_count),
            "probes": probe_list,
        },
    )
