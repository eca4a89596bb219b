"""Warts UDP probe records (type 16), both directions.

Layout: udpprobe flags/params, in which the first probe's source port and
reply count are fields of the record itself (its transmit time is the
measurement's start); the first probe's reply blocks; then for each
further probe its block, and after all of them the replies of the further
probes, in probe order.  Reply blocks carry the receiving interface name
through the record's interface-name table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from . import reader as R
from .addr import ScamperAddr
from .listcycle import CycleData, ListData
from .reader import Field, Reader, Timeval
from .writer import Writer, register

__all__ = [
    "UdpprobeData",
    "UdpprobeProbeData",
    "UdpprobeReplyData",
    "decode_udpprobe",
    "encode_udpprobe",
]


@dataclass
class UdpprobeReplyData:
    rx: Timeval | None = None
    len: int = 0
    data: bytes | None = None
    ifname: str | None = None


@dataclass
class UdpprobeProbeData:
    tx: Timeval | None = None
    sport: int = 0
    replyc: int = 0
    replies: list[UdpprobeReplyData] = field(default_factory=list)


@dataclass
class UdpprobeData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    p0_sport: int = 0
    dport: int = 0
    start: Timeval | None = None
    wait_timeout: int = 0  # microseconds
    flags: int = 0
    stop: int = 0
    len: int = 0
    data: bytes | None = None
    p0_replyc: int = 0
    probe_count: int = 1
    probe_sent: int = 1
    stop_count: int = 0
    sport: int = 0
    wait_probe: int = 0  # microseconds
    probes: list[UdpprobeProbeData] = field(default_factory=list)


def _len(r: Reader) -> int:
    n = r.u16()
    r.ctx.scratch["len"] = n
    return n


def _data(r: Reader) -> bytes:
    return r.raw(r.ctx.scratch.get("len", 0))


def _ifname(r: Reader) -> str:
    return r.ifname()


_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),
    ("cycle", R.cycle_ref),
    ("userid", R.u32),
    ("src", R.addr_static),
    ("dst", R.addr_static),
    ("p0_sport", R.u16),
    ("dport", R.u16),
    ("start", R.timeval),
    ("wait_timeout", R.rtt),
    ("flags", R.u8),
    ("stop", R.u8),
    ("len", _len),
    ("data", _data),
    ("p0_replyc", R.u8),
    ("probe_count", R.u8),
    ("probe_sent", R.u8),
    ("stop_count", R.u8),
    ("sport", R.u16),
    ("wait_probe", R.rtt),
)
_PROBE_FIELDS: Sequence[Field | None] = (("tx", R.timeval), ("sport", R.u16), ("replyc", R.u8))
_REPLY_FIELDS: Sequence[Field | None] = (
    ("rx", R.timeval),
    ("len", _len),
    ("data", _data),
    ("ifname", _ifname),
)


def _reply(r: Reader) -> UdpprobeReplyData:
    rep = UdpprobeReplyData()
    r.params(_REPLY_FIELDS, rep)
    return rep


def decode_udpprobe(r: Reader) -> UdpprobeData:
    u = UdpprobeData()
    r.params(_FIELDS, u)
    u.probe_sent = u.probe_sent or 1
    u.probe_count = u.probe_count or 1
    p0 = UdpprobeProbeData(tx=u.start, sport=u.p0_sport, replyc=u.p0_replyc)
    p0.replies = [_reply(r) for _ in range(u.p0_replyc)]
    rest = []
    for _ in range(u.probe_sent - 1):
        p = UdpprobeProbeData()
        r.params(_PROBE_FIELDS, p)
        rest.append(p)
    for p in rest:
        p.replies = [_reply(r) for _ in range(p.replyc)]
    u.probes = [p0, *rest]
    return u


@register(_len)
def _w_len(w: Writer, v: int) -> None:
    w.u16(v)


@register(_data)
def _w_data(w: Writer, v: bytes) -> None:
    w.raw(v)


@register(_ifname)
def _w_ifname(w: Writer, v: str) -> None:
    w.ifname(v)


def encode_udpprobe(w: Writer, u: UdpprobeData) -> None:
    w.params(_FIELDS, u)
    for rep in u.probes[0].replies if u.probes else ():
        w.params(_REPLY_FIELDS, rep)
    for p in u.probes[1:]:
        w.params(_PROBE_FIELDS, p)
    for p in u.probes[1:]:
        for rep in p.replies:
            w.params(_REPLY_FIELDS, rep)
