"""Warts OWAMP records (type 17), both directions.

Layout: owamp flags/params, ``schedc`` schedule blocks, then ``txc``
transmit blocks each followed by its receive blocks.  Absent parameters
take scamper's defaults (control port 861, 2 s timeout, one schedule
element, ten attempts, 42-byte packets, TTL 255).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import reader as R
from .addr import ScamperAddr
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .writer import Writer

__all__ = [
    "OwampData",
    "OwampRxData",
    "OwampSchedData",
    "OwampTxData",
    "decode_owamp",
    "encode_owamp",
]


@dataclass
class OwampSchedData:
    tv: Timeval | None = None
    type: int = 0


@dataclass
class OwampRxData:
    stamp: Timeval | None = None
    errest: int = 0
    flags: int = 0
    dscp: int = 0
    ttl: int = 0


@dataclass
class OwampTxData:
    sched: Timeval | None = None
    stamp: Timeval | None = None
    seq: int = 0
    errest: int = 0
    flags: int = 0
    rxc: int = 0
    rxs: list[OwampRxData] = field(default_factory=list)


@dataclass
class OwampData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    dport: int = 861
    flags: int = 0
    start: Timeval | None = None
    startat: Timeval | None = None
    wait_timeout: Timeval | None = (2, 0)
    schedc: int = 1
    attempts: int = 10
    pktsize: int = 20 + 8 + 14
    dir: int = 0
    dscp: int = 0
    ttl: int = 255
    hsrtt: int = 0
    result: int = 0
    errmsg: str | None = None
    udp_sport: int = 0
    udp_dport: int = 0
    txc: int = 0
    scheds: list[OwampSchedData] = field(default_factory=list)
    txs: list[OwampTxData] = field(default_factory=list)


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
