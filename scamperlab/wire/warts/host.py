"""Warts DNS (host) records (type 14).

Layout: host flags/params, then ``qcount`` queries; each query is a
flags/params block followed by its answer, authority and additional
resource records (each a flags/params block).  RR data is a 16-bit data
type followed by that type's encoding.  Data types this decoder does not
know (OPT and SVCB in recent releases) are skipped: RR data is the last
field of its block, so the block length lets us step over it safely.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsFormatError
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .writer import Writer, present_ids, register

__all__ = [
    "QCLASS_NAMES",
    "QTYPE_NAMES",
    "RCODE_NAMES",
    "STOP_NAMES",
    "HostData",
    "HostQueryData",
    "HostRRData",
    "MxData",
    "SoaData",
    "TxtData",
    "decode_host",
    "encode_host",
    "qclass_str",
    "qtype_str",
    "rcode_str",
]


@dataclass
class SoaData:
    mname: str | None = None
    rname: str | None = None
    serial: int = 0
    refresh: int = 0
    retry: int = 0
    expire: int = 0
    minimum: int = 0


@dataclass
class MxData:
    preference: int = 0
    exchange: str | None = None


@dataclass
class TxtData:
    strc: int = 0
    strs: list[str] = field(default_factory=list)


#: Decoded RR data: an address, a name, or one of the structures above.
RRValue = ScamperAddr | str | SoaData | MxData | TxtData | None


@dataclass
class HostRRData:
    rclass: int = 0
    rtype: int = 0
    name: str | None = None
    ttl: int = 0
    data: RRValue = None


@dataclass
class HostQueryData:
    tx: Timeval | None = None
    rx: Timeval | None = None
    id: int = 0
    ancount: int = 0
    nscount: int = 0
    arcount: int = 0
    rcode: int = 0
    flags: int = 0
    an: list[HostRRData] = field(default_factory=list)
    ns: list[HostRRData] = field(default_factory=list)
    ar: list[HostRRData] = field(default_factory=list)


@dataclass
class HostData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    start: Timeval | None = None
    flags: int = 0
    wait: int = 0  # milliseconds
    stop: int = 0
    retries: int = 0
    qtype: int = 0
    qclass: int = 0
    qname: str | None = None
    qcount: int = 0
    ecs: str | None = None
    queries: list[HostQueryData] = field(default_factory=list)


#: DNS type mnemonics of the query and record types scamper knows
QTYPE_NAMES = {
    1: "A",
    2: "NS",
    5: "CNAME",
    6: "SOA",
    12: "PTR",
    15: "MX",
    16: "TXT",
    28: "AAAA",
    41: "OPT",
    43: "DS",
    44: "SSHFP",
    46: "RRSIG",
    47: "NSEC",
    48: "DNSKEY",
    64: "SVCB",
    65: "HTTPS",
}


def qtype_str(v: int) -> str:
    """A DNS type number as its mnemonic (``"AAAA"``), or the number itself."""
    return QTYPE_NAMES.get(v, str(v))


# DNS classes and the record types the result classes give typed views of.
CLASS_IN, CLASS_CH = 1, 3
TYPE_A, TYPE_NS, TYPE_CNAME, TYPE_SOA, TYPE_PTR, TYPE_MX, TYPE_TXT = 1, 2, 5, 6, 12, 15, 16
TYPE_AAAA, TYPE_OPT, TYPE_SVCB, TYPE_HTTPS = 28, 41, 64, 65

#: DNS class mnemonics scamper prints
QCLASS_NAMES = {CLASS_IN: "IN", CLASS_CH: "CH"}


def qclass_str(v: int) -> str:
    """A DNS class number as its mnemonic (``"IN"``), or the number itself."""
    return QCLASS_NAMES.get(v, str(v))


#: DNS response codes by number (RFC 6895 registry); None where unassigned
RCODE_NAMES = (
    "NoError",
    "FormErr",
    "ServFail",
    "NXDomain",
    "NotImp",
    "Refused",
    "YXDomain",
    "YXRRSet",
    "NXRRSet",
    "NotAuth",
    "NotZone",
    "DSOTYPENI",
    None,
    None,
    None,
    None,
    "BADVERS",
    "BADKEY",
    "BADTIME",
    "BADMODE",
    "BADNAME",
    "BADALG",
    "BADTRUNC",
    "BADCOOKIE",
)


def rcode_str(v: int) -> str:
    """A DNS response code as its mnemonic (``"NXDomain"``), or the number itself."""
    name = RCODE_NAMES[v] if 0 <= v < len(RCODE_NAMES) else None
    return name if name is not None else str(v)


#: scamper's words for the ``stop`` codes
STOP_NAMES = ("none", "done", "timeout", "halted", "error")


DATA_ADDR, DATA_STR, DATA_SOA, DATA_MX, DATA_TXT = 1, 2, 3, 4, 5


_HOST_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),  # 1
    ("cycle", R.cycle_ref),  # 2
    ("userid", R.u32),  # 3
    ("src", R.addr),  # 4
    ("dst", R.addr),  # 5
    ("start", R.timeval),  # 6
    ("flags", R.u16),  # 7
    ("wait", R.u16),  # 8
    ("stop", R.u8),  # 9
    ("retries", R.u8),  # 10
    ("qtype", R.u16),  # 11
    ("qclass", R.u16),  # 12
    ("qname", R.string),  # 13
    ("qcount", R.u8),  # 14
    ("ecs", R.string),  # 15 (inferred from 20260420 output)
)

_QUERY_FIELDS: Sequence[Field | None] = (
    ("tx", R.timeval),
    ("rx", R.timeval),
    ("id", R.u16),
    ("ancount", R.u16),
    ("nscount", R.u16),
    ("arcount", R.u16),
    ("rcode", R.u8),
    ("flags", R.u8),
)

_SOA_FIELDS: Sequence[Field | None] = (
    ("mname", R.string),
    ("rname", R.string),
    ("serial", R.u32),
    ("refresh", R.u32),
    ("retry", R.u32),
    ("expire", R.u32),
    ("minimum", R.u32),
)

_MX_FIELDS: Sequence[Field | None] = (("preference", R.u16), ("exchange", R.string))


def _strc(r: Reader) -> int:
    n = r.u16()
    r.ctx.scratch["strc"] = n
    return n


def _strs(r: Reader) -> list[str]:
    out = []
    for _ in range(r.ctx.scratch.get("strc", 0)):
        n = r.u8()
        out.append(r.raw(n).decode("utf-8", errors="replace"))
    return out


_TXT_FIELDS: Sequence[Field | None] = (("strc", _strc), ("strs", _strs))


def _txt(r: Reader) -> TxtData:
    t = TxtData()
    r.params(_TXT_FIELDS, t)
    return t


def _rrdata(r: Reader) -> RRValue:
    dtype = r.u16()
    if dtype == DATA_ADDR:
        return r.addr()
    if dtype == DATA_STR:
        return r.string()
    if dtype == DATA_SOA:
        soa = SoaData()
        r.params(_SOA_FIELDS, soa)
        if soa.mname is None or soa.rname is None:
            raise WartsFormatError("SOA record without names")
        return soa
    if dtype == DATA_MX:
        mx = MxData()
        r.params(_MX_FIELDS, mx)
        if mx.exchange is None:
            raise WartsFormatError("MX record without exchange")
        return mx
    if dtype == DATA_TXT:
        return _txt(r)
    r.off = r.end  # unknown data type: skip to the end of the RR block
    return None


_RR_FIELDS: Sequence[Field | None] = (
    ("rclass", R.u16),
    ("rtype", R.u16),
    ("name", R.string),
    ("ttl", R.u32),
    ("data", _rrdata),
)


def _read_rr(r: Reader) -> HostRRData:
    rr = HostRRData()
    r.params(_RR_FIELDS, rr)
    if rr.name is None:
        raise WartsFormatError("resource record without a name")
    return rr


def decode_host(r: Reader) -> HostData:
    """Decode the body of a host record."""
    h = HostData()
    r.params(_HOST_FIELDS, h)
    if h.dst is None:
        raise WartsFormatError("host record without a destination")
    for _ in range(h.qcount):
        q = HostQueryData()
        r.params(_QUERY_FIELDS, q)
        q.an = [_read_rr(r) for _ in range(q.ancount)]
        q.ns = [_read_rr(r) for _ in range(q.nscount)]
        q.ar = [_read_rr(r) for _ in range(q.arcount)]
        h.queries.append(q)
    return h


# -- writing ----------------------------------------------------------------------


@register(_strc)
def _w_strc(w: Writer, v: int) -> None:
    w.u16(v)


@register(_strs)
def _w_strs(w: Writer, v: list[str]) -> None:
    for text in v:
        raw = text.encode("utf-8")
        w.u8(len(raw))
        w.raw(raw)


@register(_rrdata)
def _w_rrdata(w: Writer, v: RRValue) -> None:
    if isinstance(v, str):
        w.u16(DATA_STR)
        w.string(v)
    elif isinstance(v, SoaData):
        w.u16(DATA_SOA)
        w.params(_SOA_FIELDS, v)
    elif isinstance(v, MxData):
        w.u16(DATA_MX)
        w.params(_MX_FIELDS, v)
    elif isinstance(v, TxtData):
        w.u16(DATA_TXT)
        w.params(_TXT_FIELDS, v)
    elif v is not None:
        w.u16(DATA_ADDR)
        w.addr(v)


def encode_host(w: Writer, h: HostData) -> None:
    w.params(_HOST_FIELDS, h)
    for q in h.queries:
        w.params(_QUERY_FIELDS, q)
        for rr in (*q.an, *q.ns, *q.ar):
            w.params(
                _RR_FIELDS, rr, present_ids(rr) if rr.data is not None else present_ids(rr) - {5}
            )
