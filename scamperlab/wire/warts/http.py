"""Warts HTTP records (type 15), both directions.

Layout: http flags/params, ``bufc`` chunk blocks (direction and kind in
one byte: high bit = transmitted), then optional attributes each a type
byte and a 32-bit length (ECH config list, ECH retry config).  An absent
destination port means the scheme's default.
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

__all__ = ["HttpBufData", "HttpData", "decode_http", "encode_http"]

TYPE_HTTPS, TYPE_HTTP = 0, 1
DIR_RX, DIR_TX = 0, 1
BUF_DATA, BUF_HDR, BUF_TLS = 0, 1, 2


@dataclass
class HttpBufData:
    dir: int = 0
    type: int = 0
    tv: Timeval | None = None
    len: int = 0
    data: bytes | None = None

    @property
    def _dirtype(self) -> tuple[int, int]:
        """Direction and kind, stored as one byte in warts."""
        return self.dir, self.type

    @_dirtype.setter
    def _dirtype(self, v: tuple[int, int]) -> None:
        self.dir, self.type = v


@dataclass
class HttpData:
    list_: ListData | None = None
    cycle: CycleData | None = None
    userid: int = 0
    src: ScamperAddr | None = None
    dst: ScamperAddr | None = None
    sport: int = 0
    dport: int = 0
    start: Timeval | None = None
    stop: int = 0
    type: int = 0
    host: str | None = None
    file: str | None = None
    headers: list[str] | None = None
    bufc: int = 0
    hsrtt: int = 0  # microseconds
    flags: int = 0
    maxtime: Timeval | None = None
    errmsg: str | None = None
    ech_status: int = 0
    ech_outer_sni: str | None = None
    ech_config_list: bytes | None = None
    ech_retry_config: bytes | None = None
    bufs: list[HttpBufData] = field(default_factory=list)

    def joined(self, direction: int, btype: int) -> bytes | None:
        """The chunks of one direction and kind, concatenated; None when
        there are none."""
        parts = [b.data or b"" for b in self.bufs if b.dir == direction and b.type == btype]
        return b"".join(parts) if parts else None


ATTR_ECH_CONFIG_LIST, ATTR_ECH_RETRY_CONFIG = 1, 2


def _headers(r: Reader) -> list[str]:
    return [r.string() for _ in range(r.u8())]


def _buf_type(r: Reader) -> tuple[int, int]:
    b = r.u8()
    return b >> 7, b & 0x7F


def _buf_len(r: Reader) -> int:
    n = r.u16()
    r.ctx.scratch["buflen"] = n
    return n


def _buf_data(r: Reader) -> bytes:
    return r.raw(r.ctx.scratch.get("buflen", 0))


_FIELDS: Sequence[Field | None] = (
    ("list_", R.list_ref),
    ("cycle", R.cycle_ref),
    ("userid", R.u32),
    ("src", R.addr_static),
    ("dst", R.addr_static),
    ("sport", R.u16),
    ("dport", R.u16),  # 7
    ("start", R.timeval),
    ("stop", R.u8),
    ("type", R.u8),
    ("host", R.string),
    ("file", R.string),
    ("headers", _headers),
    ("bufc", R.u32),
    ("hsrtt", R.rtt),
    ("flags", R.u32),
    ("maxtime", R.timeval),
    ("errmsg", R.string),
    ("ech_status", R.u8),
    ("ech_outer_sni", R.string),
)


_BUF_FIELDS: Sequence[Field | None] = (
    ("_dirtype", _buf_type),
    ("tv", R.timeval),
    ("len", _buf_len),
    ("data", _buf_data),
)


def decode_http(r: Reader) -> HttpData:
    h = HttpData()
    present = r.params(_FIELDS, h)
    if 7 not in present:
        if h.type not in (TYPE_HTTP, TYPE_HTTPS):
            raise WartsFormatError("http record of unknown type without a port")
        h.dport = 443 if h.type == TYPE_HTTPS else 80
    for _ in range(h.bufc):
        b = HttpBufData()
        r.params(_BUF_FIELDS, b)
        h.bufs.append(b)
    while r.remaining() >= 5:
        atype, alen = r.u8(), r.u32()
        body = r.raw(alen)
        if atype == ATTR_ECH_CONFIG_LIST:
            h.ech_config_list = body
        elif atype == ATTR_ECH_RETRY_CONFIG:
            h.ech_retry_config = body
    return h


@register(_headers)
def _w_headers(w: Writer, v: list[str]) -> None:
    w.u8(len(v))
    for s in v:
        w.string(s)


@register(_buf_type)
def _w_buf_type(w: Writer, v: tuple[int, int]) -> None:
    w.u8((v[0] << 7) | v[1])


@register(_buf_len)
def _w_buf_len(w: Writer, v: int) -> None:
    w.u16(v)


@register(_buf_data)
def _w_buf_data(w: Writer, v: bytes) -> None:
    w.raw(v)


def encode_http(w: Writer, h: HttpData) -> None:
    w.params(_FIELDS, h)
    for b in h.bufs:
        w.params(_BUF_FIELDS, b, present_ids(b))
    for atype, body in (
        (ATTR_ECH_CONFIG_LIST, h.ech_config_list),
        (ATTR_ECH_RETRY_CONFIG, h.ech_retry_config),
    ):
        if body is not None:
            w.u8(atype)
            w.u32(len(body))
            w.raw(body)
