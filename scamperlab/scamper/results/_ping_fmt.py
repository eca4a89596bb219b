"""Text and JSON renderings of pings, as scamper 20260420 prints them.

``to_json()`` must equal what ``sc_warts2json`` (20260420) writes for the
same record, byte for byte, because scripts compare or store it; the
layout (including its one irregular ``", "`` separator) is reproduced from
that tool's output.
"""

from __future__ import annotations

import struct

from scamperlab.wire.warts.ping import (
    FLAG_ICMPSUM,
    FLAG_PAYLOAD,
    FLAG_TSONLY,
    M_UDP_DPORT,
    METHOD_NAMES,
    REPLY_FLAG_DLRX,
    REPLY_FLAG_DLTX,
    REPLY_FLAG_PROBE_IPID,
    REPLY_FLAG_REPLY_IPID,
    REPLY_FLAG_REPLY_TOS,
    STOP_NAMES,
    VARY_SPORT_METHODS,
    PingData,
    PingReplyData,
)

from ._ping_stats import PingStats, replies_by_probe
from ._util import fmt_ms, json_str, name_of

__all__ = ["ping_json", "ping_text"]

_FLAG_NAMES = (
    "v4rr",
    "spoof",
    "payload",
    "tsonly",
    "tsandaddr",
    "icmpsum",
    "dl",
    "tbt",
    "nosrc",
    "raw",
    "sockrx",
    "dltx",
)

TH_FIN, TH_SYN, TH_RST, TH_ACK, TH_ECE = 0x01, 0x02, 0x04, 0x10, 0x40


def _tsreply(val: int) -> str:
    ms = val % 1000
    ss = val // 1000
    hh, ss = divmod(ss, 3600)
    mm, ss = divmod(ss, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}.{ms:03d}"


def _reply_line(r: PingReplyData) -> str:
    """The one-line text form of a reply (no trailing newline)."""
    rtt = fmt_ms(r.rtt)
    line = f"{r.reply_size} bytes from {r.addr}, seq={r.probe_id} "
    if r.is_icmp() or r.is_udp():
        line += f"ttl={r.reply_ttl} time={rtt} ms"
    if r.is_icmp() and r.tsreply is not None:
        tso, tsr, tst = (_tsreply(v) for v in r.tsreply)
        line += f" tso={tso} tsr={tsr} tst={tst}"
    elif r.is_tcp():
        f = r.tcp_flags
        if f & TH_RST:
            tcp = "closed"
        elif f & (TH_SYN | TH_ACK) == TH_SYN | TH_ACK:
            tcp = "open,ecn" if f & TH_ECE else "open"
        else:
            tcp = f"{f:x}02x"  # scamper's "%0x02x" format, verbatim
        line += f"tcp={tcp} ttl={r.reply_ttl} time={rtt} ms"
    return line


def _reply_extra(r: PingReplyData) -> list[str]:
    out: list[str] = []
    if r.v4rr:
        out.append(f" RR: {r.v4rr[0]}")
        out.extend(f"     {a}" for a in r.v4rr[1:])
    if r.v4ts is not None and r.v4ts[0]:
        tss, ips = r.v4ts
        for i, ts in enumerate(tss):
            prefix = " TS: " if i == 0 else "     "
            ip = f"{ips[i]!s:<15} " if ips is not None else ""
            out.append(f"{prefix}{ip}{ts}")
    return out


def _replies(d: PingData) -> list[PingReplyData]:
    """Every reply, in the order scamper prints them (by probe)."""
    return [r for rs in replies_by_probe(d).values() for r in rs]


def ping_text(d: PingData, st: PingStats) -> str:
    """What scamper prints for a ping, given its statistics ``st``."""
    lines = [f"ping from {d.src} to {d.dst}: {d.probe_size} byte packets"]
    for r in _replies(d):
        lines.append(_reply_line(r))
        lines.extend(_reply_extra(r))
    rp = ((d.ping_sent - st.nreplies) * 100) // d.ping_sent if d.ping_sent else 0
    lines.append(f"--- {d.dst} ping statistics ---")
    dups = f"+{st.ndups} duplicates, " if st.ndups else ""
    lines.append(
        f"{d.ping_sent} packets transmitted, {st.nreplies} packets received, "
        f"{dups}{rp}% packet loss"
    )
    if st.rtt is not None:
        rtt = st.rtt
        lines.append(
            "round-trip min/avg/max/stddev = "
            f"{fmt_ms(rtt.min)}/{fmt_ms(rtt.avg)}/{fmt_ms(rtt.max)}/{fmt_ms(rtt.stddev)} ms"
        )
    return "\n".join(lines)


def _f32(x: float) -> float:
    """Round to single precision, as scamper computes the loss ratio."""
    return float(struct.unpack("f", struct.pack("f", x))[0])


def _reply_json(d: PingData, r: PingReplyData) -> str:
    out = f'{{"from":"{r.addr}","reply_size":{r.reply_size},"reply_ttl":{r.reply_ttl}'
    out += f',"seq":{r.probe_id}'
    if r.tx is not None and r.tx[0] != 0:
        out += f',"tx":{{"sec":{r.tx[0]},"usec":{r.tx[1]}}}'
    if d.is_icmp():
        out += f',"icmp_id":{d.sport},"icmp_seq":{(d.dport + r.probe_id) & 0xFFFF}'
    else:
        pt = "udp" if d.is_udp() else "tcp"
        sport = r.probe_sport
        if sport == 0:
            sport = d.sport + (r.probe_id if d.method in VARY_SPORT_METHODS else 0)
        dport = d.dport + (r.probe_id if d.method == M_UDP_DPORT else 0)
        out += f',"{pt}_sport":{sport & 0xFFFF}, "{pt}_dport":{dport & 0xFFFF}'
    if r.flags & REPLY_FLAG_PROBE_IPID:
        out += f',"probe_ipid":{r.probe_ipid}'
    proto = {1: '"icmp"', 58: '"icmp"', 6: '"tcp"', 17: '"udp"'}.get(
        r.reply_proto, str(r.reply_proto)
    )
    out += f',"reply_proto":{proto}'
    if r.ifname is not None:
        out += f',"ifname":"{json_str(r.ifname)}"'
    rflags = [
        n
        for bit, n in ((REPLY_FLAG_DLTX, '"dltxts"'), (REPLY_FLAG_DLRX, '"dlrxts"'))
        if r.flags & bit
    ]
    if rflags:
        out += f',"reply_flags":[{",".join(rflags)}]'
    if r.tx is not None and r.tx[0] != 0:
        rx_us = r.tx[0] * 1_000_000 + r.tx[1] + r.rtt
        out += f',"rx":{{"sec":{rx_us // 1_000_000},"usec":{rx_us % 1_000_000}}}'
    out += f',"rtt":{fmt_ms(r.rtt)}'
    if r.addr is not None and r.addr.is_ipv4():
        out += f',"reply_ipid":{r.reply_ipid}'
    elif r.addr is not None and r.addr.is_ipv6() and r.flags & REPLY_FLAG_REPLY_IPID:
        out += f',"reply_ipid":{r.reply_ipid32}'
    if r.flags & REPLY_FLAG_REPLY_TOS:
        out += f',"reply_tos":{r.reply_tos}'
    if r.is_icmp():
        out += f',"icmp_type":{r.icmp_type},"icmp_code":{r.icmp_code}'
        if r.is_icmp_ptb():
            out += f',"icmp_nhmtu":{r.icmp_nhmtu}'
    elif r.is_tcp():
        out += f',"tcp_flags":{r.tcp_flags}'
        if r.tcp_mss:
            out += f',"tcp_mss":{r.tcp_mss}'
    if r.v4rr is not None:
        out += ',"RR":[' + ",".join(f'"{a}"' for a in r.v4rr) + "]"
    if r.v4ts is not None:
        tss, ips = r.v4ts
        if not d.flags & FLAG_TSONLY:
            items = []
            for i, ts in enumerate(tss):
                item = f'{{"ts":{ts}'
                if ips is not None:
                    item += f',"ip":"{ips[i]}"'
                items.append(item + "}")
            out += ',"tsandaddr":[' + ",".join(items) + "]"
        else:
            out += ',"tsonly":[' + ",".join(str(t) for t in tss) + "]"
    return out + "}"


def ping_json(d: PingData, st: PingStats) -> str:
    """``sc_warts2json``'s line for a ping, given its statistics ``st``."""
    out = f'{{"type":"ping","version":"0.4","method":"{name_of(METHOD_NAMES, d.method)}"'
    if d.src is not None:
        out += f',"src":"{d.src}"'
    if d.dst is not None:
        out += f',"dst":"{d.dst}"'
    if d.rtr is not None:
        out += f',"rtr":"{d.rtr}"'
    st_sec, st_usec = d.start if d.start is not None else (0, 0)
    out += f',"start":{{"sec":{st_sec},"usec":{st_usec}}}'
    out += f',"stop_reason":"{name_of(STOP_NAMES, d.stop_reason)}","stop_data":{d.stop_data}'
    out += f',"ping_sent":{d.ping_sent},"probe_size":{d.probe_size},"userid":{d.userid}'
    out += f',"ttl":{d.probe_ttl},"tos":{d.tos},"wait":{d.wait_probe_s & 0xFF}'
    if d.wait_probe_us:
        out += f',"wait_us":{d.wait_probe_us}'
    out += f',"timeout":{d.wait_timeout_s & 0xFF}'
    if d.wait_timeout_us:
        out += f',"timeout_us":{d.wait_timeout_us}'
    if d.is_udp() or d.is_tcp():
        out += f',"sport":{d.sport},"dport":{d.dport}'
    if d.is_tcp():
        out += f',"tcp_seq":{d.tcpseq},"tcp_ack":{d.tcpack}'
        if d.tcp_mss:
            out += f',"tcp_mss":{d.tcp_mss}'
    if d.data:
        key = "payload" if d.flags & FLAG_PAYLOAD else "pattern"
        out += f',"{key}":"{d.data.hex()}"'
    if d.flags:
        names = [f'"{n}"' for i, n in enumerate(_FLAG_NAMES) if d.flags & (1 << i)]
        out += f',"flags":[{",".join(names)}]'
    if d.is_icmp() and d.flags & FLAG_ICMPSUM:
        out += f',"icmp_csum":{d.icmpsum}'
    if d.tsps is not None:
        out += ',"probe_tsps":[' + ",".join(f'"{a}"' for a in d.tsps) + "]"
    replies = [_reply_json(d, r) for r in _replies(d)]
    out += ',"responses":[' + ",".join(replies) + '],"no_responses":[]'
    stats = f'"statistics":{{"replies":{st.nreplies}'
    if d.ping_sent:
        if st.nreplies == 0:
            loss = "1"
        elif st.nreplies == d.ping_sent:
            loss = "0"
        else:
            loss = f"{_f32((d.ping_sent - st.nreplies) / d.ping_sent):.2f}"
        stats += f',"loss":{loss}'
    if st.rtt is not None:
        rtt = st.rtt
        stats += f',"min":{fmt_ms(rtt.min)},"max":{fmt_ms(rtt.max)}'
        stats += f',"avg":{fmt_ms(rtt.avg)},"stddev":{fmt_ms(rtt.stddev)}'
    if st.ndups:
        stats += f',"ndups":{st.ndups}'
    if st.nerrs:
        stats += f',"nerrs":{st.nerrs}'
    return out + "," + stats + "}}"
