"""Warts packet-capture records (type 13), both directions.

Layout: sniff flags/params, then ``pktc`` packet blocks (time, length,
bytes).
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

__all__ = ["SniffData", "SniffPktData", "decode_sniff", "encode_sniff"]


@dataclass
class SniffPktData:
    tv: Timeval | None = None
    len: int = 0
    data: bytes | None = None


@dataclass
class SniffData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    start: Timeval | None = None
    finish: Timeval | None = None
    stop_reason: int = 0
    limit_pktc: int = 0
    limit_time: int = 0  # seconds
    pktc: int = 0
    icmpid: int = 0
    pkts: list[SniffPktData] = field(default_factory=list)


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
    ("start", R.timeval),
    ("finish", R.timeval),
    ("stop_reason", R.u8),
    ("limit_pktc", R.u32),
    ("limit_time", R.u16),
    ("pktc", R.u32),
    ("icmpid", R.u16),
)
_PKT_FIELDS: Sequence[Field | None] = (("tv", R.timeval), ("len", _len), ("data", _data))


def decode_sniff(r: Reader) -> SniffData:
    s = SniffData()
    r.params(_FIELDS, s)
    if s.src is None:
        raise WartsFormatError("sniff record without a source")
    for _ in range(s.pktc):
        p = SniffPktData()
        r.params(_PKT_FIELDS, p)
        if not p.data:
            raise WartsFormatError("sniff packet without data")
        s.pkts.append(p)
    return s


@register(_len)
def _w_len(w: Writer, v: int) -> None:
    w.u16(v)


@register(_data)
def _w_data(w: Writer, v: bytes) -> None:
    w.raw(v)


def encode_sniff(w: Writer, s: SniffData) -> None:
    w.params(_FIELDS, s)
    for p in s.pkts:
        w.params(_PKT_FIELDS, p)
