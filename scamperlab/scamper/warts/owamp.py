"""Warts OWAMP records (type 17), both directions.

Layout: owamp flags/params, ``schedc`` schedule blocks, then ``txc``
transmit blocks each followed by its receive blocks.  Absent parameters
take scamper's defaults (control port 861, 2 s timeout, one schedule
element, ten attempts, 42-byte packets, TTL 255).
"""

from __future__ import annotations

from collections.abc import Sequence

from ..results.owamp import OwampData, OwampRxData, OwampSchedData, OwampTxData
from . import reader as R
from .reader import Field, Reader
from .writer import Writer

__all__ = ["decode_owamp", "encode_owamp"]

_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),
    ("cycle", R.cycle_ref),
    ("userid", R.u32),
    ("src", R.addr_static),
    ("dst", R.addr_static),
    ("dport", R.u16),
    ("flags", R.u16),
    ("start", R.timeval),
    ("startat", R.timeval),
    ("wait_timeout", R.timeval),
    ("schedc", R.u32),
    ("attempts", R.u32),
    ("pktsize", R.u16),
    ("dir", R.u8),
    ("dscp", R.u8),
    ("ttl", R.u8),
    ("hsrtt", R.rtt),
    ("result", R.u8),
    ("errmsg", R.string),
    ("udp_sport", R.u16),
    ("udp_dport", R.u16),
    ("txc", R.u32),
)
_SCHED_FIELDS: Sequence[Field | None] = (("tv", R.timeval), ("type", R.u8))
_RX_FIELDS: Sequence[Field | None] = (
    ("stamp", R.timeval),
    ("errest", R.u16),
    ("flags", R.u8),
    ("dscp", R.u8),
    ("ttl", R.u8),
)
_TX_FIELDS: Sequence[Field | None] = (
    ("sched", R.timeval),
    ("stamp", R.timeval),
    ("seq", R.u32),
    ("errest", R.u16),
    ("flags", R.u8),
    ("rxc", R.u8),
)


def decode_owamp(r: Reader) -> OwampData:
    o = OwampData()
    r.params(_FIELDS, o)
    for _ in range(o.schedc):
        s = OwampSchedData()
        r.params(_SCHED_FIELDS, s)
        o.scheds.append(s)
    for _ in range(o.txc):
        t = OwampTxData()
        r.params(_TX_FIELDS, t)
        for _ in range(t.rxc):
            rx = OwampRxData()
            r.params(_RX_FIELDS, rx)
            t.rxs.append(rx)
        o.txs.append(t)
    return o


def encode_owamp(w: Writer, o: OwampData) -> None:
    w.params(_FIELDS, o)
    for s in o.scheds:
        w.params(_SCHED_FIELDS, s)
    for t in o.txs:
        w.params(_TX_FIELDS, t)
        for rx in t.rxs:
            w.params(_RX_FIELDS, rx)
