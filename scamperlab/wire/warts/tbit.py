"""Warts TCP behaviour inference records (type 11), both directions.

Layout: tbit flags/params; ``pktc`` packet blocks; then typed blocks
(16-bit type, 32-bit length, body) until a zero type.  The typed blocks
hold test- and application-specific parameters no public accessor
exposes: they are kept as bytes and written back as they were.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import reader as R
from .addr import ScamperAddr
from .errors import WartsFormatError
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .writer import Writer, register

__all__ = ["TbitData", "TbitPktData", "decode_tbit", "encode_tbit"]


@dataclass
class TbitPktData:
    dir: int = 0
    tv: Timeval | None = None
    len: int = 0
    data: bytes | None = None


@dataclass
class TbitData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    sport: int = 0
    dport: int = 0
    start: Timeval | None = None
    result: int = 0
    type: int = 0
    app_proto: int = 0
    client_mss: int = 0
    server_mss: int = 0
    syn_retx: int = 0
    dat_retx: int = 0
    pktc16: int = 0
    pktc: int = 0
    cookie: bytes | None = None
    client_wscale: int = 0
    options: int = 0
    client_ipttl: int = 255
    pkts: list[TbitPktData] = field(default_factory=list)
    blocks: bytes = b"\0\0"  # the struct blocks after the packets, EOF included


def _cookie(r: Reader) -> bytes:
    n = r.u8()
    if n > 16:
        raise WartsFormatError("TCP fast-open cookie longer than 16 bytes")
    return r.raw(n)


def _len(r: Reader) -> int:
    n = r.u16()
    r.ctx.scratch["pktlen"] = n
    return n


def _data(r: Reader) -> bytes:
    return r.raw(r.ctx.scratch.get("pktlen", 0))


_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),
    ("cycle", R.cycle_ref),
    ("userid", R.u32),
    ("src", R.addr),
    ("dst", R.addr),
    ("sport", R.u16),
    ("dport", R.u16),
    ("start", R.timeval),
    ("result", R.u16),
    ("type", R.u8),
    ("app_proto", R.u8),
    ("client_mss", R.u16),
    ("server_mss", R.u16),
    ("syn_retx", R.u8),
    ("dat_retx", R.u8),
    ("pktc16", R.u16),  # 16, older releases
    ("pktc", R.u32),
    ("cookie", _cookie),
    ("client_wscale", R.u8),
    ("options", R.u32),
    ("client_ipttl", R.u8),  # 21; 255 when absent
)
_PKT_FIELDS: Sequence[Field | None] = (
    ("dir", R.u8),
    ("tv", R.timeval),
    ("len", _len),
    ("data", _data),
)


def decode_tbit(r: Reader) -> TbitData:
    t = TbitData()
    r.params(_FIELDS, t)
    if t.src is None or t.dst is None:
        raise WartsFormatError("tbit record without source or destination")
    t.pktc = t.pktc or t.pktc16
    for _ in range(t.pktc):
        p = TbitPktData()
        r.params(_PKT_FIELDS, p)
        if not p.data:
            raise WartsFormatError("tbit packet without data")
        t.pkts.append(p)
    start = r.off
    while r.u16() != 0:
        r.raw(r.u32())
    t.blocks = r.buf[start : r.off]
    return t


@register(_cookie)
def _w_cookie(w: Writer, v: bytes) -> None:
    w.u8(len(v))
    w.raw(v)


@register(_len)
def _w_len(w: Writer, v: int) -> None:
    w.u16(v)


@register(_data)
def _w_data(w: Writer, v: bytes) -> None:
    w.raw(v)


def encode_tbit(w: Writer, t: TbitData) -> None:
    w.params(_FIELDS, t)
    for p in t.pkts:
        w.params(_PKT_FIELDS, p)
    w.raw(t.blocks)
