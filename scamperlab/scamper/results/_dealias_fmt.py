"""Text and JSON renderings of alias-resolution results, as scamper
20260420 prints them (checked against ``sc_warts2json`` output).

scamper's JSON writer knows mercator, ally, radargun, prefixscan and bump
only: for midarest and midardisc it writes nothing, and ``to_json()`` is
None.  Its text writer prints ally results only.
"""

from __future__ import annotations

from scamperlab.wire.warts.dealias import (
    ALLY,
    BUMP,
    MERCATOR,
    METHOD_NAMES,
    PD_ICMP,
    PD_METHOD_NAMES,
    PD_TCP,
    PD_UDP_SET,
    PREFIXSCAN,
    RADARGUN,
    REPLY_FLAG_IPID32,
    RESULT_ALIASES,
    RESULT_NAMES,
    RESULT_NONE,
    RESULT_NOT_ALIASES,
    DealiasData,
    DealiasProbeData,
    DealiasProbedefData,
    DealiasReplyData,
)

from ..addr import ScamperAddr
from ._util import name_of

__all__ = ["dealias_json", "dealias_text"]

_FLAG_NAMES = {ALLY: ("nobs",), RADARGUN: ("nobs",), PREFIXSCAN: ("nobs", "csa")}
# the text writer's words differ from the JSON ones
_TEXT_RESULTS = {RESULT_NONE: "none", RESULT_ALIASES: "aliases", RESULT_NOT_ALIASES: "not aliases"}


def dealias_text(d: DealiasData) -> str:
    if d.method != ALLY or len(d.probedefs) != 2:
        return ""
    word = _TEXT_RESULTS.get(d.result, str(d.result))
    return f"{d.probedefs[0].dst} {d.probedefs[1].dst} {word}\n"


def _flags(d: DealiasData) -> str:
    if not d.flags:
        return ""
    names = _FLAG_NAMES.get(d.method, ())
    parts = [
        f'"{names[i]}"' if i < len(names) else str(1 << i) for i in range(8) if d.flags & (1 << i)
    ]
    return ', "flags":[' + ",".join(parts) + "]"


def _header(d: DealiasData) -> str:
    sec, usec = d.start or (0, 0)
    out = (
        f'{{"type":"dealias","version":"0.2","method":"{name_of(METHOD_NAMES, d.method)}"'
        f', "userid":{d.userid}, "result":"{name_of(RESULT_NAMES, d.result)}"'
        f', "start":{{"sec":{sec}, "usec":{usec}}}'
    )
    if d.method == MERCATOR:
        out += f', "attempts":{d.attempts}, "wait_timeout":{d.wait_timeout_s}'
    elif d.method == ALLY:
        out += f', "wait_probe":{d.wait_probe_ms}, "wait_timeout":{d.wait_timeout_s}'
        out += f', "attempts":{d.attempts}, "fudge":{d.fudge}' + _flags(d)
    elif d.method == RADARGUN:
        out += f', "attempts":{d.rounds}, "wait_probe":{d.wait_probe_ms}'
        out += f', "wait_round":{d.wait_round_ms}, "wait_timeout":{d.wait_timeout_s}' + _flags(d)
    elif d.method == PREFIXSCAN:
        out += f', "a":"{d.a}", "b":"{d.b}/{d.prefix}"'
        if d.ab is not None and d.b is not None:
            out += f', "ab":"{d.ab}/{_prefixhosts(d.b, d.ab)}"'
        if d.xs:
            out += ', "xs":[' + ", ".join(f'"{x}"' for x in d.xs) + "]"
        out += f', "attempts":{d.attempts}, "replyc":{d.replyc}, "fudge":{d.fudge}'
        out += f', "wait_probe":{d.wait_probe_ms}, "wait_timeout":{d.wait_timeout_s}' + _flags(d)
    elif d.method == BUMP:
        out += f', "wait_probe":{d.wait_probe_ms}, "bump_limit":{d.bump_limit}'
        out += f', "attempts":{d.attempts}'
    return out


def _prefixhosts(b: ScamperAddr, ab: ScamperAddr) -> int:
    """The prefix length covering both ``b`` and ``ab`` (scamper's
    ``scamper_addr_prefixhosts``)."""
    x = int.from_bytes(b.packed or b"", "big") ^ int.from_bytes(ab.packed or b"", "big")
    return len(b.packed or b"") * 8 - x.bit_length()


def _probedef(pd: DealiasProbedefData) -> str:
    out = f'{{"id":{pd.id}, "src":"{pd.src}", "dst":"{pd.dst}", "ttl":{pd.ttl}, "size":{pd.size}'
    out += f', "method":"{name_of(PD_METHOD_NAMES, pd.method)}"'
    if pd.method in PD_ICMP:
        out += f', "icmp_id":{pd.icmp_id}, "icmp_csum":{pd.icmp_csum}'
    elif pd.method in PD_UDP_SET:
        out += f', "udp_sport":{pd.sport}, "udp_dport":{pd.dport}'
    elif pd.method in PD_TCP:
        out += f', "tcp_sport":{pd.sport}, "tcp_dport":{pd.dport}, "tcp_flags":{pd.tcp_flags}'
    if pd.mtu:
        out += f', "mtu":{pd.mtu}'
    return out + "}"


def _reply(r: DealiasReplyData) -> str:
    sec, usec = r.rx or (0, 0)
    out = f'{{"src":"{r.src}","rx":{{"sec":{sec},"usec":{usec}}},"ttl":{r.ttl}'
    if r.size:
        out += f', "size":{r.size}'
    if r.src is not None and r.src.is_ipv4():
        out += f', "ipid":{r.ipid}'
    elif r.flags & REPLY_FLAG_IPID32:
        out += f', "ipid":{r.ipid32}'
    out += f', "proto":{r.proto}'
    if r.is_icmp():
        out += f', "icmp_type":{r.icmp_type}, "icmp_code":{r.icmp_code}'
        if r.is_icmp_q():
            out += f', "icmp_q_ttl":{r.icmp_q_ttl}'
    elif r.is_tcp():
        out += f', "tcp_flags":{r.tcp_flags}'
    return out + "}"


def _probe(d: DealiasData, p: DealiasProbeData) -> str:
    sec, usec = p.tx or (0, 0)
    pd = d.probedefs[p.def_id]
    out = f'{{"probedef_id":{pd.id},"seq":{p.seq},"tx":{{"sec":{sec},"usec":{usec}}}'
    if pd.dst is not None and pd.dst.is_ipv4():
        out += f', "ipid":{p.ipid}'
    return out + ', "replies":[' + ", ".join(_reply(r) for r in p.replies) + "]}"


def dealias_json(d: DealiasData) -> str | None:
    if d.method not in (MERCATOR, ALLY, RADARGUN, PREFIXSCAN, BUMP):
        return None
    return (
        _header(d)
        + ', "probedefs":['
        + ", ".join(_probedef(pd) for pd in d.probedefs)
        + '], "probes":['
        + ", ".join(_probe(d, p) for p in d.probes)
        + "]}"
    )
