"""Field-by-field comparison of decoded objects with ``sc_warts2json`` output.

Every key ``sc_warts2json`` writes (20211212 or 20260420 flavour) is mapped
to the value our objects expose, mostly through the public API; a few
fields the ``scamper`` module has no accessor for (probe method name,
stop_data, raw flag words, retries) are read from the decoded data.  A key
without a mapping is itself reported, so new output fields cannot be
silently ignored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from scamperlab.scamper.results.host import ScamperHost, ScamperHostQuery
from scamperlab.scamper.results.ping import ScamperPing, ScamperPingReply
from scamperlab.scamper.results.trace import ScamperTrace, ScamperTraceHop
from scamperlab.wire.warts.host import qclass_str, qtype_str
from scamperlab.wire.warts.ping import METHOD_NAMES as PING_METHODS
from scamperlab.wire.warts.trace import METHOD_NAMES as TRACE_METHODS

Diffs = list[tuple[str, object, object]]

_PING_FLAGS: tuple[str, ...] = (
    *("v4rr", "spoof", "payload", "tsonly", "tsandaddr", "icmpsum", "dl", "tbt"),
    *("nosrc", "raw", "sockrx", "dltx"),
)
_TRACE_FLAGS: tuple[str, ...] = (
    *("all-attempts", "pmtud", "dl", "ignorettldst", "doubletree"),
    *("icmp-csum-dport", "const-payload", "rxerr", "ptr", "raw"),
)
_HOP_FLAGS = ((0x02, "dltxts"), (0x04, "dlrxts"), (0x01, "sockrxts"), (0x08, "tscrxts"))
_QFLAGS = ("CD", "AD", "Z", "RA", "RD", "TC", "AA", "0x80")


def _names(word: int, names: tuple[str, ...]) -> list[str]:
    return [n for i, n in enumerate(names) if word & (1 << i)]


def _tv(d: dict[str, int]) -> dt.datetime:
    return dt.datetime.fromtimestamp(d["sec"], dt.UTC) + dt.timedelta(microseconds=d["usec"])


def _ms_us(v: float) -> int:
    """A JSON RTT in milliseconds (three decimals) as microseconds."""
    return round(v * 1000)


def _td_us(td: dt.timedelta | None) -> int | None:
    return None if td is None else td // dt.timedelta(microseconds=1)


class Checker:
    """Compares one JSON object with one decoded object."""

    def __init__(self, diffs: Diffs, path: str) -> None:
        self.diffs = diffs
        self.path = path

    def eq(self, key: str, expected: object, actual: object) -> None:
        if expected != actual:
            self.diffs.append((f"{self.path}.{key}", expected, actual))

    def run(self, j: dict[str, Any], handlers: dict[str, Callable[[Any], None]]) -> None:
        for key, val in j.items():
            h = handlers.get(key)
            if h is None:
                self.diffs.append((f"{self.path}.{key}", "unmapped key", val))
            else:
                h(val)


def check_ping(p: ScamperPing, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    d = p._d
    wait_us = _td_us(p.wait_probe) or 0
    timeout_us = _td_us(p.wait_timeout) or 0
    replies = [ScamperPingReply._create(d, r) for rs in p._probes.values() for r in rs]

    def responses(v: list[dict[str, Any]]) -> None:
        c.eq("responses.len", len(v), len(replies))
        for i, (jr, r) in enumerate(zip(v, replies, strict=False)):
            check_ping_reply(p, r, jr, diffs, f"{path}.responses[{i}]")

    def stats(v: dict[str, Any]) -> None:
        s = Checker(diffs, path + ".statistics")
        nrep = p.nreplies
        loss = 1 if nrep == 0 else (0 if nrep == p.probe_count else None)
        s.run(
            v,
            {
                "replies": lambda x: s.eq("replies", x, nrep),
                "loss": lambda x: s.eq(
                    "loss", x, loss if loss is not None else round(1 - nrep / p.probe_count, 2)
                ),
                "min": lambda x: s.eq("min", _ms_us(x), _td_us(p.min_rtt)),
                "max": lambda x: s.eq("max", _ms_us(x), _td_us(p.max_rtt)),
                "avg": lambda x: s.eq("avg", _ms_us(x), _td_us(p.avg_rtt)),
                "stddev": lambda x: s.eq("stddev", _ms_us(x), _td_us(p.stddev_rtt)),
                "ndups": lambda x: s.eq("ndups", x, p.ndups),
                "nerrs": lambda x: s.eq("nerrs", x, p.nerrs),
            },
        )

    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "ping"),
            "version": lambda v: None,
            "method": lambda v: c.eq("method", v, PING_METHODS[d.method]),
            "src": lambda v: c.eq("src", v, str(p.src)),
            "dst": lambda v: c.eq("dst", v, str(p.dst)),
            "rtr": lambda v: c.eq("rtr", v, str(p.rtr)),
            "start": lambda v: c.eq("start", _tv(v), p.start),
            "stop_reason": lambda v: c.eq("stop_reason", v, p.stop_reason_str),
            "stop_data": lambda v: c.eq("stop_data", v, d.stop_data),
            "ping_sent": lambda v: c.eq("ping_sent", v, p.probe_count),
            "probe_size": lambda v: c.eq("probe_size", v, p.probe_size),
            "userid": lambda v: c.eq("userid", v, p.userid),
            "ttl": lambda v: c.eq("ttl", v, p.probe_ttl),
            "tos": lambda v: c.eq("tos", v, p.probe_tos),
            "wait": lambda v: c.eq("wait", v, wait_us // 1_000_000),
            "wait_us": lambda v: c.eq("wait_us", v, wait_us % 1_000_000),
            "timeout": lambda v: c.eq("timeout", v, timeout_us // 1_000_000),
            "timeout_us": lambda v: c.eq("timeout_us", v, timeout_us % 1_000_000),
            "sport": lambda v: c.eq("sport", v, p.probe_sport),
            "dport": lambda v: c.eq("dport", v, p.probe_dport),
            "tcp_seq": lambda v: c.eq("tcp_seq", v, p.probe_tcp_seq),
            "tcp_ack": lambda v: c.eq("tcp_ack", v, p.probe_tcp_ack),
            "tcp_mss": lambda v: c.eq("tcp_mss", v, p.probe_tcp_mss),
            "payload": lambda v: c.eq("payload", v, (p.payload or b"").hex()),
            "pattern": lambda v: c.eq("pattern", v, (p.payload or b"").hex()),
            "flags": lambda v: c.eq("flags", v, _names(d.flags, _PING_FLAGS)),
            "icmp_csum": lambda v: c.eq("icmp_csum", v, p.probe_icmp_sum),
            "probe_tsps": lambda v: c.eq("probe_tsps", v, [str(a) for a in p.probe_tsaddrs or []]),
            "responses": responses,
            "no_responses": lambda v: c.eq("no_responses", v, []),
            "statistics": stats,
        },
    )
    # the public iterator yields the first reply of each probe
    firsts = [r.attempt for r in p.replies()]
    c.eq("replies().attempts", sorted(set(r.attempt for r in replies)), firsts)


def check_ping_reply(
    p: ScamperPing, r: ScamperPingReply, j: dict[str, Any], diffs: Diffs, path: str
) -> None:
    c = Checker(diffs, path)
    d, raw = p._d, r._r
    proto = {1: "icmp", 58: "icmp", 6: "tcp", 17: "udp"}.get(r.reply_proto, r.reply_proto)
    sport = raw.probe_sport or d.sport + (raw.probe_id if p.is_vary_sport() else 0)
    dport = d.dport + (raw.probe_id if p.is_vary_dport() else 0)
    ts = r.ip_ts
    c.run(
        j,
        {
            "from": lambda v: c.eq("from", v, str(r.src)),
            "seq": lambda v: c.eq("seq", v, r.attempt - 1),
            "reply_size": lambda v: c.eq("reply_size", v, r.reply_size),
            "reply_ttl": lambda v: c.eq("reply_ttl", v, r.reply_ttl),
            "reply_proto": lambda v: c.eq("reply_proto", v, proto),
            "tx": lambda v: c.eq("tx", _tv(v), r.tx),
            "rx": lambda v: c.eq("rx", _tv(v), r.rx),
            "rtt": lambda v: c.eq("rtt", _ms_us(v), _td_us(r.rtt)),
            "icmp_id": lambda v: c.eq("icmp_id", v, d.sport),
            "icmp_seq": lambda v: c.eq("icmp_seq", v, d.dport + r.attempt - 1),
            "udp_sport": lambda v: c.eq("udp_sport", v, sport),
            "udp_dport": lambda v: c.eq("udp_dport", v, dport),
            "tcp_sport": lambda v: c.eq("tcp_sport", v, sport),
            "tcp_dport": lambda v: c.eq("tcp_dport", v, dport),
            "probe_ipid": lambda v: c.eq("probe_ipid", v, r.probe_ipid or 0),
            "reply_ipid": lambda v: c.eq("reply_ipid", v, r.reply_ipid or 0),
            "reply_tos": lambda v: c.eq("reply_tos", v, r.reply_tos),
            "ifname": lambda v: c.eq("ifname", v, r.ifname),
            "reply_flags": lambda v: None,
            "icmp_type": lambda v: c.eq("icmp_type", v, r.icmp_type),
            "icmp_code": lambda v: c.eq("icmp_code", v, r.icmp_code),
            "icmp_nhmtu": lambda v: c.eq("icmp_nhmtu", v, r.icmp_nhmtu),
            "tcp_flags": lambda v: c.eq("tcp_flags", v, r.tcp_flags),
            "tcp_mss": lambda v: c.eq("tcp_mss", v, r.tcp_mss),
            "RR": lambda v: c.eq("RR", v, [str(a) for a in r.ip_rr or []]),
            "tsonly": lambda v: (
                c.eq("tsonly", v, [t // dt.timedelta(milliseconds=1) for t in ts.timestamps()])
                if ts is not None
                else c.eq("tsonly", v, None)
            ),
            "tsandaddr": lambda v: c.eq(
                "tsandaddr",
                sorted((x["ip"], x["ts"]) for x in v),
                sorted((str(a), t // dt.timedelta(milliseconds=1)) for a, t in ts or []),
            ),
        },
    )


def check_trace(t: ScamperTrace, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    d = t._d
    hops = [
        ScamperTraceHop._create(d, h)
        for h in sorted(d.hops, key=lambda h: h.probe_ttl)
        if h.probe_ttl >= t.firsthop
    ]

    def start(v: dict[str, Any]) -> None:
        c.eq("start", _tv(v), t.start)
        assert t.start is not None
        c.eq("start.ftime", v["ftime"], t.start.strftime("%Y-%m-%d %H:%M:%S"))

    def hop_list(v: list[dict[str, Any]]) -> None:
        c.eq("hops.len", len(v), len(hops))
        for i, (jh, h) in enumerate(zip(v, hops, strict=False)):
            check_trace_hop(h, jh, diffs, f"{path}.hops[{i}]")

    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "trace"),
            "version": lambda v: None,
            "userid": lambda v: c.eq("userid", v, t.userid),
            "method": lambda v: c.eq("method", v, TRACE_METHODS[d.type]),
            "src": lambda v: c.eq("src", v, str(t.src)),
            "dst": lambda v: c.eq("dst", v, str(t.dst)),
            "rtr": lambda v: c.eq("rtr", v, str(t.rtr)),
            "sport": lambda v: c.eq("sport", v, t.probe_sport),
            "dport": lambda v: c.eq("dport", v, t.probe_dport),
            "icmp_sum": lambda v: c.eq("icmp_sum", v, t.probe_icmp_sum),
            "stop_reason": lambda v: c.eq("stop_reason", v, t.stop_reason_str.upper()),
            "stop_data": lambda v: c.eq("stop_data", v, d.stop_data),
            "start": start,
            "hop_count": lambda v: c.eq("hop_count", v, t.hop_count),
            "attempts": lambda v: c.eq("attempts", v, t.attempts),
            "hoplimit": lambda v: c.eq("hoplimit", v, t.hoplimit),
            "firsthop": lambda v: c.eq("firsthop", v, t.firsthop),
            "wait": lambda v: c.eq("wait", v, t.wait_timeout // dt.timedelta(seconds=1)),
            "wait_probe": lambda v: c.eq(
                "wait_probe", v, t.wait_probe // dt.timedelta(milliseconds=10)
            ),
            "tos": lambda v: c.eq("tos", v, t.tos),
            "probe_size": lambda v: c.eq("probe_size", v, t.probe_size),
            "probe_count": lambda v: c.eq("probe_count", v, t.probe_count),
            "flags": lambda v: c.eq("flags", v, _names(d.flags, _TRACE_FLAGS)),
            "hops": hop_list,
        },
    )


def check_trace_hop(h: ScamperTraceHop, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    raw = h._h

    def icmpext(v: list[dict[str, Any]]) -> None:
        exts = list(h.icmp_exts.exts()) if h.icmp_exts is not None else []
        c.eq("icmpext.len", len(v), len(exts))
        for je, e in zip(v, exts, strict=False):
            c.eq("icmpext.ie_cn", je["ie_cn"], e.class_num)
            c.eq("icmpext.ie_ct", je["ie_ct"], e.c_type)
            c.eq("icmpext.ie_dl", je["ie_dl"], e.data_len)
            for k, lab in enumerate(je.get("mpls_labels", [])):
                c.eq("mpls_label", lab["mpls_label"], e.mpls_label(k))
                c.eq("mpls_ttl", lab["mpls_ttl"], e.mpls_ttl(k))
                c.eq("mpls_exp", lab["mpls_exp"], e.mpls_exp(k))
                c.eq("mpls_s", lab["mpls_s"], e.mpls_s(k))

    c.run(
        j,
        {
            "addr": lambda v: c.eq("addr", v, str(h.src)),
            "name": lambda v: c.eq("name", v, h.name),
            "probe_ttl": lambda v: c.eq("probe_ttl", v, h.probe_ttl),
            "probe_id": lambda v: c.eq("probe_id", v, h.attempt),
            "probe_size": lambda v: c.eq("probe_size", v, h.probe_size),
            "tx": lambda v: c.eq("tx", _tv(v), h.tx),
            "rtt": lambda v: c.eq("rtt", _ms_us(v), _td_us(h.rtt)),
            "reply_ttl": lambda v: c.eq("reply_ttl", v, h.reply_ttl),
            "reply_tos": lambda v: c.eq("reply_tos", v, h.reply_tos),
            "flags": lambda v: c.eq("flags", v, [n for b, n in _HOP_FLAGS if raw.flags & b]),
            "reply_ipid": lambda v: c.eq("reply_ipid", v, h.reply_ipid or 0),
            "reply_size": lambda v: c.eq("reply_size", v, h.reply_size),
            "icmp_type": lambda v: c.eq("icmp_type", v, h.icmp_type),
            "icmp_code": lambda v: c.eq("icmp_code", v, h.icmp_code),
            "icmp_q_ttl": lambda v: c.eq("icmp_q_ttl", v, h.icmp_q_ttl),
            "icmp_q_ipl": lambda v: c.eq("icmp_q_ipl", v, h.icmp_q_ipl),
            "icmp_q_tos": lambda v: c.eq("icmp_q_tos", v, h.icmp_q_tos),
            "icmp_nhmtu": lambda v: c.eq("icmp_nhmtu", v, h.icmp_nhmtu),
            "icmp_nhmtu:": lambda v: c.eq("icmp_nhmtu", v, h.icmp_nhmtu),
            "tcp_flags": lambda v: c.eq("tcp_flags", v, h.tcp_flags),
            "icmpext": icmpext,
        },
    )


def check_host(hst: ScamperHost, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    d = hst._d
    queries = [ScamperHostQuery._create(q) for q in d.queries]

    def query_list(v: list[dict[str, Any]]) -> None:
        c.eq("queries.len", len(v), len(queries))
        for i, (jq, q) in enumerate(zip(v, queries, strict=False)):
            check_query(q, jq, diffs, f"{path}.queries[{i}]")

    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "host"),
            "version": lambda v: None,
            "src": lambda v: c.eq("src", v, str(hst.src)),
            "dst": lambda v: c.eq("dst", v, str(hst.dst)),
            "userid": lambda v: c.eq("userid", v, hst.userid),
            "start": lambda v: c.eq("start", _tv(v), hst.start),
            "flags": lambda v: c.eq("flags", v, _names(d.flags, ("norecurse", "tcp", "nsid"))),
            "wait": lambda v: c.eq("wait", v, hst.wait_timeout // dt.timedelta(milliseconds=1)),
            "retries": lambda v: c.eq("retries", v, d.retries),
            "stop": lambda v: c.eq("stop", v, hst.stop_reason_str.upper()),
            "qname": lambda v: c.eq("qname", v, hst.qname),
            "qclass": lambda v: c.eq("qclass", v, hst.qclass),
            "qtype": lambda v: c.eq("qtype", v, hst.qtype),
            "qcount": lambda v: c.eq("qcount", v, d.qcount),
            "ecs": lambda v: c.eq("ecs", v, hst.ecs),
            "queries": query_list,
        },
    )
    # the measurement's own response properties come from the first answer
    first = next((jq for jq in j["queries"] if "rx" in jq), None)
    if first is None:
        c.eq("rcode(no response)", None, hst.rcode)
        c.eq("ancount(no response)", 0, hst.ancount)
    else:
        c.eq("rcode", first["rcode"], hst.rcode)
        c.eq("rtt", _tv(first["rx"]) - _tv(first["tx"]), hst.rtt)
        c.eq("ancount", first["ancount"], hst.ancount)


def check_query(q: ScamperHostQuery, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    raw = q._qd

    def rrs(name: str) -> Callable[[list[dict[str, Any]]], None]:
        def run(v: list[dict[str, Any]]) -> None:
            section = [getattr(q, name)(i) for i in range(getattr(q, name + "count"))]
            c.eq(f"{name}.len", len(v), len(section))
            for i, (jr, rr) in enumerate(zip(v, section, strict=False)):
                check_rr(rr, jr, diffs, f"{path}.{name}[{i}]")

        return run

    c.run(
        j,
        {
            "id": lambda v: c.eq("id", v, q.id),
            "ancount": lambda v: c.eq("ancount", v, raw.ancount),
            "nscount": lambda v: c.eq("nscount", v, raw.nscount),
            "arcount": lambda v: c.eq("arcount", v, raw.arcount),
            "tx": lambda v: c.eq("tx", _tv(v), q.tx),
            "rx": lambda v: c.eq("rx", _tv(v), q.rx),
            "rcode": lambda v: c.eq("rcode", v, q.rcode),
            "flags": lambda v: c.eq("flags", v, _names(q.flags, _QFLAGS)),
            "an": rrs("an"),
            "ns": rrs("ns"),
            "ar": rrs("ar"),
        },
    )


def check_rr(rr: Any, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    soa, mx, txt = rr.soa, rr.mx, rr.txt
    c.run(
        j,
        {
            "class": lambda v: c.eq("class", v, qclass_str(rr.rclass)),
            "type": lambda v: c.eq("type", v, qtype_str(rr.rtype)),
            "ttl": lambda v: c.eq("ttl", v, rr.ttl),
            "name": lambda v: c.eq("name", v, rr.name),
            "address": lambda v: c.eq("address", v, str(rr.addr)),
            "nsdname": lambda v: c.eq("nsdname", v, rr.ns),
            "cname": lambda v: c.eq("cname", v, rr.cname),
            "ptrdname": lambda v: c.eq("ptrdname", v, rr.ptr),
            "preference": lambda v: c.eq("preference", v, mx.pref if mx else None),
            "exchange": lambda v: c.eq("exchange", v, mx.exch if mx else None),
            "mname": lambda v: c.eq("mname", v, soa.mname if soa else None),
            "rname": lambda v: c.eq("rname", v, soa.rname if soa else None),
            "serial": lambda v: c.eq("serial", v, soa.serial if soa else None),
            "refresh": lambda v: c.eq("refresh", v, soa.refresh if soa else None),
            "retry": lambda v: c.eq("retry", v, soa.retry if soa else None),
            "expire": lambda v: c.eq("expire", v, soa.expire if soa else None),
            "minimum": lambda v: c.eq("minimum", v, soa.minimum if soa else None),
            "strc": lambda v: c.eq("strc", v, txt.strc if txt else None),
            "strs": lambda v: c.eq("strs", v, list(txt) if txt else None),
        },
    )


def check_cycle(obj: Any, j: dict[str, Any], diffs: Diffs, path: str) -> None:
    c = Checker(diffs, path)
    c.run(
        j,
        {
            "type": lambda v: c.eq("type", v, "cycle-stop" if obj._kind == 4 else "cycle-start"),
            "list_name": lambda v: c.eq("list_name", v, obj._d.list.name),
            "id": lambda v: c.eq("id", v, obj.id),
            "hostname": lambda v: c.eq("hostname", v, obj.hostname),
            "start_time": lambda v: c.eq("start_time", v, int(obj.start.timestamp())),
            "stop_time": lambda v: c.eq("stop_time", v, int(obj.stop.timestamp())),
        },
    )


CHECKERS: dict[str, Callable[[Any, dict[str, Any], Diffs, str], None]] = {
    "ping": check_ping,
    "trace": check_trace,
    "host": check_host,
    "cycle-start": check_cycle,
    "cycle-stop": check_cycle,
}
