"""Text and JSON renderings of MDA traceroutes, as scamper 20260420 prints
them (the header layout is checked against ``sc_warts2json`` output; the
node/link part follows the structure scamper's writer uses)."""

from __future__ import annotations

import datetime as _dt

from scamperlab.wire.warts.tracelb import (
    METHOD_NAMES,
    NODE_FLAG_QTTL,
    TracelbData,
    TracelbNodeData,
    TracelbProbeData,
    TracelbProbesetData,
    TracelbReplyData,
)

from ..addr import ScamperAddr
from ._util import json_str

__all__ = ["summary_text", "tracelb_json", "tracelb_text"]


def probeset_summary(s: TracelbProbesetData) -> tuple[list[ScamperAddr], int]:
    """Distinct reply sources (sorted) and the number of flows that got no
    reply at all, as scamper summarises a probeset for printing."""
    addrs: set[ScamperAddr] = set()
    nullc = 0
    flow: int | None = None
    answered = False
    for p in s.probes:
        if flow is not None and p.flowid != flow:
            nullc += 0 if answered else 1
            answered = False
        flow = p.flowid
        for r in p.replies:
            if r.addr is not None:
                addrs.add(r.addr)
                answered = True
    if flow is not None and not answered:
        nullc += 1
    return sorted(addrs), nullc


def summary_text(s: TracelbProbesetData) -> str:
    """A probeset as scamper prints one hop of a link: ``(a, b, *)`` or ``*``."""
    addrs, nullc = probeset_summary(s)
    if nullc and not addrs:
        return "*"
    return "(" + ", ".join(str(a) for a in addrs) + (", *)" if nullc else ")")


def tracelb_text(t: TracelbData) -> str:
    lines = [
        f"tracelb from {t.src} to {t.dst}, {t.nodec} nodes, {t.linkc} links, "
        f"{t.probec} probes, {t.confidence}%"
    ]
    for n in t.nodes:
        src = str(n.addr) if n.addr is not None else "*"
        if len(n.links) > 1:
            for li in n.links:
                far = t.links[li].far
                lines.append(f"{src} -> {t.nodes[far].addr if far is not None else '*'}")
        elif len(n.links) == 1:
            link = t.links[n.links[0]]
            out = f"{src} -> "
            for s in link.sets[: max(link.hopc - 1, 0)]:
                out += summary_text(s) + " -> "
            if link.far is not None:
                out += str(t.nodes[link.far].addr)
            elif link.sets:
                out += summary_text(link.sets[-1])
            lines.append(out)
    return "\n".join(lines)


def _tv_diff(a: tuple[int, int] | None, b: tuple[int, int] | None) -> str:
    a, b = a or (0, 0), b or (0, 0)
    us = (b[0] - a[0]) * 1_000_000 + b[1] - a[1]
    return f"{us // 1_000_000}.{us % 1_000_000:06d}"


def _reply_json(p: TracelbProbeData, r: TracelbReplyData) -> str:
    rx = r.rx or (0, 0)
    out = f'{{"rx":{{"sec":{rx[0]}, "usec":{rx[1]}}}, "ttl":{r.ttl}, "rtt":{_tv_diff(p.tx, r.rx)}'
    if r.addr is not None and r.addr.is_ipv4():
        out += f', "ipid":{r.ipid}'
    if r.is_tcp():
        out += f', "tcp_flags":{r.tcp_flags}'
    else:
        out += f', "icmp_type":{r.icmp_type}, "icmp_code":{r.icmp_code}, "icmp_q_tos":{r.q_tos}'
        if r.is_icmp_q():
            out += f', "icmp_q_ttl":{r.q_ttl}'
    return out + "}"


def _probe_json(p: TracelbProbeData, addr: ScamperAddr | None) -> str:
    rs = [r for r in p.replies if r.addr == addr]
    tx = p.tx or (0, 0)
    out = (
        f'{{"tx":{{"sec":{tx[0]}, "usec":{tx[1]}}}, "replyc":{len(rs)}, '
        f'"ttl":{p.ttl}, "attempt":{p.attempt}, "flowid":{p.flowid}'
    )
    if rs:
        out += ', "replies":[' + ",".join(_reply_json(p, r) for r in rs) + "]"
    return out + "}"


def _addr_probes(s: TracelbProbesetData, addr: ScamperAddr | None) -> str:
    return ",".join(
        _probe_json(p, addr) for p in s.probes if any(r.addr == addr for r in p.replies)
    )


def _summary_json(s: TracelbProbesetData) -> str:
    addrs, nullc = probeset_summary(s)
    if nullc and not addrs:
        return '{"addr":"*"}'
    parts = [f'{{"addr":"{a}", "probes":[{_addr_probes(s, a)}]}}' for a in addrs]
    out = ", ".join(parts)
    return out + (', {"addr":"*"}' if nullc else "")


def _node_json(t: TracelbData, n: TracelbNodeData) -> str:
    out = '{"addr":"' + (str(n.addr) if n.addr is not None else "*") + '"'
    if n.name is not None:
        out += f', "name":"{json_str(n.name)}"'
    if n.flags & NODE_FLAG_QTTL:
        out += f', "q_ttl":{n.q_ttl}'
    out += f', "linkc":{n.linkc}, "links":['
    links = [t.links[li] for li in n.links]
    if len(links) > 1:
        parts = []
        for link in links:
            far = t.nodes[link.far].addr if link.far is not None else None
            probes = link.sets[0].probes if link.sets else []
            parts.append(
                f'{{"addr":"{far}", "probes":['
                + ",".join(_probe_json(p, far) for p in probes)
                + "]}"
            )
        out += "[" + ",".join(parts) + "]"
    elif links:
        link = links[0]
        parts = [f"[{_summary_json(s)}]" for s in link.sets[: max(link.hopc - 1, 0)]]
        if link.far is not None:
            far = t.nodes[link.far].addr
            last = link.sets[link.hopc - 1].probes if link.hopc and link.sets else []
            parts.append(
                f'[{{"addr":"{far}", "probes":['
                + ",".join(_probe_json(p, far) for p in last)
                + "]}]"
            )
        else:
            parts.append('[{"addr":"*"}]')
        out += ",".join(parts)
    return out + "]}"


def tracelb_json(t: TracelbData) -> str:
    out = f'{{"type":"tracelb", "version":"0.1", "userid":{t.userid}'
    out += f', "method":"{METHOD_NAMES.get(t.type, str(t.type))}"'
    for key, a in (("src", t.src), ("dst", t.dst), ("rtr", t.rtr)):
        if a is not None:
            out += f', "{key}":"{a}"'
    if t.is_udp() or t.is_tcp():
        out += f', "sport":{t.sport}, "dport":{t.dport}'
    sec, usec = t.start or (0, 0)
    ftime = _dt.datetime.fromtimestamp(sec, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    out += f', "start":{{"sec":{sec}, "usec":{usec}, "ftime":"{ftime}"}}'
    out += f', "probe_size":{t.probe_size}, "firsthop":{t.firsthop}, "attempts":{t.attempts}'
    out += f', "confidence":{t.confidence}, "tos":{t.tos}, "gaplimit":{t.gaplimit}'
    out += f', "wait_timeout":{t.wait_timeout}, "wait_probe":{t.wait_probe}'
    out += f', "probec":{t.probec}, "probec_max":{t.probec_max}'
    out += f', "nodec":{t.nodec}, "linkc":{t.linkc}'
    nodes = [_node_json(t, n) for n in t.nodes if n.links]
    if nodes:
        out += ', "nodes":[' + ",".join(nodes) + "]"
    return out + "}"
