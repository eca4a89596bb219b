"""Text and JSON renderings of traceroutes, as scamper 20260420 prints them.

The JSON layout follows ``sc_warts2json`` 20260420 output.  Fields that
never occurred in the samples available (ICMP extensions, PTB next-hop
MTU, TCP replies) use the names of scamper's older JSON writer.  The text
form omits the PMTUD ``[mtu: N]`` annotations.
"""

from __future__ import annotations

import datetime as _dt

from scamperlab.wire.warts.trace import (
    FLAG_ALLATTEMPTS,
    FLAG_ICMPCSUMDP,
    FLAG_RXERR,
    HOP_FLAG_TCP,
    METHOD_NAMES,
    STOP_NAMES,
    TCP_METHODS,
    UDP_METHODS,
    TraceData,
    TraceHopData,
    hop_is_icmp,
    hop_is_icmp_q,
)

from ._util import fmt_ms, name_of

__all__ = ["trace_json", "trace_text"]

_FLAG_NAMES = (
    "all-attempts",
    "pmtud",
    "dl",
    "ignorettldst",
    "doubletree",
    "icmp-csum-dport",
    "const-payload",
    "rxerr",
    "ptr",
    "raw",
)
_PORT_METHODS = UDP_METHODS | TCP_METHODS
_HOP_FLAG_NAMES = ((0x02, "dltxts"), (0x04, "dlrxts"), (0x01, "sockrxts"), (0x08, "tscrxts"))
TH_FIN, TH_SYN, TH_RST, TH_PSH, TH_ACK, TH_URG, TH_ECE, TH_CWR = (
    0x01,
    0x02,
    0x04,
    0x08,
    0x10,
    0x20,
    0x40,
    0x80,
)


def _hop_json(t: TraceData, h: TraceHopData) -> str:
    out = f'{{"addr":"{h.addr}"'
    if h.name is not None:
        out += f',"name":"{h.name}"'
    out += f',"probe_ttl":{h.probe_ttl},"probe_id":{h.probe_id},"probe_size":{h.probe_size}'
    if h.tx is not None and h.tx[0] != 0:
        out += f',"tx":{{"sec":{h.tx[0]},"usec":{h.tx[1]}}}'
    out += f',"rtt":{fmt_ms(h.rtt)},"reply_ttl":{h.reply_ttl},"reply_tos":{h.reply_tos}'
    names = [f'"{n}"' for bit, n in _HOP_FLAG_NAMES if h.flags & bit]
    if names:
        out += f',"flags":[{",".join(names)}]'
    if not t.flags & FLAG_RXERR:
        out += f',"reply_ipid":{h.reply_ipid},"reply_size":{h.reply_size}'
    if hop_is_icmp(h):
        out += f',"icmp_type":{h.icmp_type},"icmp_code":{h.icmp_code}'
        if hop_is_icmp_q(h) and not t.flags & FLAG_RXERR:
            out += f',"icmp_q_ttl":{h.icmp_q_ttl},"icmp_q_ipl":{h.icmp_q_ipl}'
            if h.addr is not None and h.addr.is_ipv4():
                out += f',"icmp_q_tos":{h.icmp_q_tos}'
        v4 = h.addr is not None and h.addr.is_ipv4()
        if (v4 and h.icmp_type == 3 and h.icmp_code == 4) or (not v4 and h.icmp_type == 2):
            out += f',"icmp_nhmtu":{h.icmp_nhmtu}'
    elif h.flags & HOP_FLAG_TCP:
        out += f',"tcp_flags":{h.tcp_flags}'
    if h.icmpext:
        exts = []
        for cn, ct, data in h.icmpext:
            e = f'{{"ie_cn":{cn},"ie_ct":{ct},"ie_dl":{len(data)}'
            if cn == 1 and ct == 1:
                labels = []
                for i in range(len(data) // 4):
                    v = int.from_bytes(data[4 * i : 4 * i + 4], "big")
                    labels.append(
                        f'{{"mpls_ttl":{v & 0xFF},"mpls_s":{(v >> 8) & 1},'
                        f'"mpls_exp":{(v >> 9) & 7},"mpls_label":{v >> 12}}}'
                    )
                e += ',"mpls_labels":[' + ",".join(labels) + "]"
            exts.append(e + "}")
        out += ',"icmpext":[' + ",".join(exts) + "]"
    return out + "}"


def trace_json(t: TraceData) -> str:
    method = METHOD_NAMES.get(t.type, str(t.type))
    out = f'{{"type":"trace","version":"0.1","userid":{t.userid},"method":"{method}"'
    if t.src is not None:
        out += f',"src":"{t.src}"'
    out += f',"dst":"{t.dst}"'
    if t.rtr is not None:
        out += f',"rtr":"{t.rtr}"'
    if t.type in _PORT_METHODS:
        out += f',"sport":{t.sport},"dport":{t.dport}'
    elif t.flags & FLAG_ICMPCSUMDP:
        out += f',"icmp_sum":{t.dport}'
    stop = name_of(STOP_NAMES, t.stop_reason).upper()
    out += f',"stop_reason":"{stop}","stop_data":{t.stop_data}'
    sec, usec = t.start if t.start is not None else (0, 0)
    ftime = _dt.datetime.fromtimestamp(sec, _dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
    out += f',"start":{{"sec":{sec},"usec":{usec},"ftime":"{ftime}"}}'
    out += f',"hop_count":{t.hop_count},"attempts":{t.attempts},"hoplimit":{t.hoplimit}'
    out += f',"firsthop":{t.firsthop},"wait":{t.wait},"wait_probe":{t.wait_probe}'
    out += f',"tos":{t.tos},"probe_size":{t.probe_size},"probe_count":{t.probec}'
    if t.flags:
        names = [f'"{n}"' for i, n in enumerate(_FLAG_NAMES) if t.flags & (1 << i)]
        out += f',"flags":[{",".join(names)}]'
    hops = [
        _hop_json(t, h)
        for h in sorted(t.hops, key=lambda h: h.probe_ttl)
        if h.probe_ttl >= t.firsthop
    ]
    if hops:
        out += ',"hops":[' + ",".join(hops) + "]"
    return out + "}"


def _icmp_note(h: TraceHopData) -> str:
    """The annotation traceroute prints after an RTT (!H, [closed], ...)."""
    f = h.tcp_flags
    if h.flags & HOP_FLAG_TCP:
        if f & TH_RST:
            return " [closed]"
        if f & (TH_SYN | TH_ACK) == TH_SYN | TH_ACK:
            return " [open, ecn]" if f & TH_ECE else " [open]"
        if f == 0:
            return " [unknown, no flags]"
        names = (
            (TH_RST, " RST"),
            (TH_SYN, " SYN"),
            (TH_ACK, " ACK"),
            (TH_PSH, " PSH"),
            (TH_FIN, " FIN"),
            (TH_URG, " URG"),
            (TH_CWR, " CWR"),
            (TH_ECE, " ECE"),
        )
        return " [unknown," + "".join(n for bit, n in names if f & bit) + "]"
    if not hop_is_icmp(h) or h.addr is None:
        return ""
    t, c = h.icmp_type, h.icmp_code
    if h.addr.is_ipv4():
        if t in (11, 0):
            return ""
        if t == 3:
            codes = {13: " !X", 1: " !H", 4: " !F", 5: " !S", 2: " !P", 0: " !N", 3: ""}
            return codes.get(c, f" !<{c}>")
        return f" !<{t},{c}>"
    if t in (3, 129):
        return ""
    if t == 1:
        codes = {3: " !A", 2: " !S", 1: " !P", 0: " !N", 4: ""}
        return codes.get(c, f" !<{c}>")
    if t == 2:
        return " !F"
    return f" !<{t},{c}>"


def _hop_line(t: TraceData, ttl: int, hops: list[TraceHopData]) -> str:
    if not hops:
        if not t.flags & FLAG_ALLATTEMPTS:
            return f"{ttl:2d}  *"
        return f"{ttl:2d}  " + " ".join("*" for _ in range(max(t.attempts, 1)))
    if len(hops) == 1:
        h = hops[0]
        return f"{ttl:2d}  {h.addr}  {fmt_ms(h.rtt)} ms{_icmp_note(h)}"
    out = f"{ttl:2d}  "
    last: str | None = None
    for h in hops:
        addr = str(h.addr)
        rtt = f"{fmt_ms(h.rtt)} ms{_icmp_note(h)}"
        out += f"{rtt}  " if addr == last else f"{addr}  {rtt}  "
        last = addr
    return out.rstrip(" ")


def trace_text(t: TraceData) -> str:
    head = "traceroute"
    if t.src is not None:
        head += f" from {t.src}"
    head += f" to {t.dst}"
    if t.rtr is not None:
        head += f" via {t.rtr}"
    by_ttl: dict[int, list[TraceHopData]] = {}
    for h in t.hops:
        by_ttl.setdefault(h.probe_ttl, []).append(h)
    lines = [head]
    lines += [_hop_line(t, i, by_ttl.get(i, [])) for i in range(1, t.hop_count + 1)]
    return "\n".join(lines)
