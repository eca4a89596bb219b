"""Text and JSON renderings of DNS (host) results.

The JSON layout is that of ``sc_warts2json`` 20260420, which (unlike its
ping and trace output) still puts a space after each comma.
"""

from __future__ import annotations

from scamperlab.wire.warts.host import (
    CLASS_IN,
    STOP_NAMES,
    HostData,
    HostQueryData,
    HostRRData,
    MxData,
    SoaData,
    TxtData,
    qclass_str,
    qtype_str,
    rcode_str,
)

from ..addr import ScamperAddr
from ._util import json_str, name_of

__all__ = ["host_json", "rr_text"]

_QFLAGS = ("CD", "AD", "Z", "RA", "RD", "TC", "AA", "0x80")
_HOST_FLAGS = ((0x0001, "norecurse"), (0x0002, "tcp"), (0x0004, "nsid"))
_STR_KEYS = {2: "nsdname", 5: "cname", 12: "ptrdname"}


def rr_text(rr: HostRRData) -> str:
    """Zone-file-like line: ``name ttl class type value``."""
    d = rr.data
    if isinstance(d, (ScamperAddr, str)):
        value = str(d)
    elif isinstance(d, SoaData):
        value = f"{d.mname} {d.rname} {d.serial} {d.refresh} {d.retry} {d.expire} {d.minimum}"
    elif isinstance(d, MxData):
        value = f"{d.preference} {d.exchange}"
    elif isinstance(d, TxtData):
        value = " ".join(f'"{s}"' for s in d.strs)
    else:
        value = ""
    line = f"{rr.name} {rr.ttl} {qclass_str(rr.rclass)} {qtype_str(rr.rtype)}"
    return f"{line} {value}" if value else line


def _rr_json(rr: HostRRData) -> str:
    out = f'{{"class":"{qclass_str(rr.rclass)}", "type":"{qtype_str(rr.rtype)}", "ttl":{rr.ttl}'
    if rr.name is not None:
        out += f', "name":"{json_str(rr.name)}"'
    d = rr.data
    if isinstance(d, ScamperAddr):
        out += f', "address":"{d}"'
    elif isinstance(d, str):
        key = _STR_KEYS.get(rr.rtype) if rr.rclass == CLASS_IN else None
        if key is not None:
            out += f', "{key}":"{json_str(d)}"'
    elif isinstance(d, MxData):
        out += f', "preference":{d.preference}'
        if d.exchange is not None:
            out += f', "exchange":"{json_str(d.exchange)}"'
    elif isinstance(d, SoaData):
        if d.mname is not None:
            out += f', "mname":"{json_str(d.mname)}"'
        if d.rname is not None:
            out += f', "rname":"{json_str(d.rname)}"'
        out += f', "serial":{d.serial}, "refresh":{d.refresh}, "retry":{d.retry}'
        out += f', "expire":{d.expire}, "minimum":{d.minimum}'
    elif isinstance(d, TxtData):
        strs = ", ".join(f'"{json_str(s)}"' for s in d.strs)
        out += f', "strc":{d.strc}, "strs":[{strs}]'
    return out + "}"


def _query_json(q: HostQueryData) -> str:
    out = f'{{"id":{q.id}, "ancount":{q.ancount}, "nscount":{q.nscount}, "arcount":{q.arcount}'
    tx = q.tx or (0, 0)
    out += f', "tx":{{"sec":{tx[0]},"usec":{tx[1]}}}'
    if q.rx is not None and q.rx != (0, 0):
        out += f', "rx":{{"sec":{q.rx[0]},"usec":{q.rx[1]}}}'
        flags = ",".join(f'"{n}"' for i, n in enumerate(_QFLAGS) if q.flags & (1 << i))
        out += f', "rcode":"{rcode_str(q.rcode)}", "flags":[{flags}]'
    for key, rrs in (("an", q.an), ("ns", q.ns), ("ar", q.ar)):
        if rrs:
            out += f', "{key}":[' + ",".join(_rr_json(rr) for rr in rrs) + "]"
    return out + "}"


def host_json(h: HostData) -> str:
    out = '{"type":"host", "version":"0.1"'
    if h.src is not None:
        out += f', "src":"{h.src}"'
    if h.dst is not None:
        out += f', "dst":"{h.dst}"'
    start = h.start or (0, 0)
    out += f', "userid":{h.userid}, "start":{{"sec":{start[0]},"usec":{start[1]}}}'
    names = [f'"{n}"' for bit, n in _HOST_FLAGS if h.flags & bit]
    if names:
        out += f', "flags":[{", ".join(names)}]'
    stop = name_of(STOP_NAMES, h.stop).upper()
    out += f', "wait":{h.wait}, "retries":{h.retries}, "stop":"{stop}"'
    if h.qname is not None:
        out += f', "qname":"{json_str(h.qname)}"'
    out += f', "qclass":"{qclass_str(h.qclass)}", "qtype":"{qtype_str(h.qtype)}"'
    out += f', "qcount":{h.qcount}'
    if h.ecs is not None:
        out += f', "ecs":"{h.ecs}"'
    out += ', "queries":[' + ",".join(_query_json(q) for q in h.queries) + "]}"
    return out
