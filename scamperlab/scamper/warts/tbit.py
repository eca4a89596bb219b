"""Warts TCP behaviour inference records (type 11), both directions.

Layout: tbit flags/params; ``pktc`` packet blocks; then typed blocks
(16-bit type, 32-bit length, body) until a zero type.  The typed blocks
hold test- and application-specific parameters no public accessor
exposes: they are kept as bytes and written back as they were.
"""

from __future__ import annotations

from collections.abc import Sequence

from scamperlab.wire.warts.errors import WartsFormatError

from ..results.tbit import TbitData, TbitPktData
from . import reader as R
from .reader import Field, Reader
from .writer import Writer, register

__all__ = ["decode_tbit", "encode_tbit"]


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
