"""``WartsEncoder``: ``scamper`` result objects in, warts bytes out.

The inverse of :class:`~.decoder.WartsDecoder`, and stateful for the same
reason: results refer to list and cycle records by stream-local ids.  The
encoder writes a list (and cycle definition) record the first time a
result refers to one, so every output stands on its own and
``sc_warts2json`` can read it.

Adding a record type is one ``encode_*(writer, data)`` function plus one
entry in :data:`ENCODERS`.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

from scamperlab.wire.warts.errors import WartsError

from ..results.common import CYCLE_DEF, CYCLE_STOP, CycleData, ListData, ScamperCycle, ScamperList
from ..results.opaque import OpaqueData
from .dealias import encode_dealias
from .host import encode_host
from .http import encode_http
from .listcycle import CYCLE_FIELDS, LIST_FIELDS
from .owamp import encode_owamp
from .ping import encode_ping
from .sniff import encode_sniff
from .tbit import encode_tbit
from .trace import encode_trace
from .tracelb import encode_tracelb
from .udpprobe import encode_udpprobe
from .writer import Writer

__all__ = ["ENCODERS", "WartsEncoder", "record"]

_HDR = struct.Struct(">HHI")
MAGIC = 0x1205
T_LIST, T_CYCLE_STOP = 1, 4


def _encode_opaque(w: Writer, d: OpaqueData) -> None:
    w.raw(d.body)


#: result class name -> (warts record type, body encoder)
ENCODERS: dict[str, tuple[int, Callable[[Writer, Any], None]]] = {
    "ScamperTrace": (6, encode_trace),
    "ScamperPing": (7, encode_ping),
    "ScamperTracelb": (8, encode_tracelb),
    "ScamperDealias": (9, encode_dealias),
    "ScamperNeighbourdisc": (10, _encode_opaque),
    "ScamperTbit": (11, encode_tbit),
    "ScamperSting": (12, _encode_opaque),
    "ScamperSniff": (13, encode_sniff),
    "ScamperHost": (14, encode_host),
    "ScamperHttp": (15, encode_http),
    "ScamperUdpprobe": (16, encode_udpprobe),
    "ScamperOwamp": (17, encode_owamp),
}


def record(rtype: int, body: bytes | bytearray) -> bytes:
    """A complete record: header then body."""
    return _HDR.pack(MAGIC, rtype, len(body)) + bytes(body)


class WartsEncoder:
    """Encodes objects for one output stream."""

    def __init__(self) -> None:
        # keyed by id() of the shared ListData / CycleData; the object is kept
        # alongside so the id cannot be reused while the stream is open
        self._lists: dict[int, tuple[int, ListData]] = {}
        self._cycles: dict[int, tuple[int, CycleData]] = {}

    # -- the RefIds protocol used by Writer ---------------------------------------

    def list_id(self, lst: ScamperList | None) -> int:
        if lst is None:
            return 0
        return self._lists[id(lst._d)][0]

    def cycle_id(self, cyc: ScamperCycle | None) -> int:
        if cyc is None:
            return 0
        return self._cycles[id(cyc._d)][0]

    # -- bookkeeping records ----------------------------------------------------------

    def _ensure_list(self, d: ListData | None, out: bytearray) -> None:
        if d is None or id(d) in self._lists:
            return
        wid = len(self._lists) + 1
        self._lists[id(d)] = (wid, d)
        w = Writer(self)
        w.u32(wid)
        w.u32(d.id)
        w.string(d.name)
        ids = {i for i, v in ((1, d.descr), (2, d.monitor)) if v is not None}
        w.params(LIST_FIELDS, d, ids)
        out += record(T_LIST, w.buf)

    def _cycle_record(self, d: CycleData, kind: int, out: bytearray) -> None:
        self._ensure_list(d.list, out)
        wid = len(self._cycles) + 1
        self._cycles[id(d)] = (wid, d)
        w = Writer(self)
        w.u32(wid)
        w.u32(self._lists[id(d.list)][0] if d.list is not None else 0)
        w.u32(d.id)
        w.u32(d.start_time)
        ids = {i for i, v in ((1, d.stop_time or None), (2, d.hostname)) if v is not None}
        w.params(CYCLE_FIELDS, d, ids)
        out += record(kind, w.buf)

    def _ensure_cycle(self, d: CycleData | None, out: bytearray) -> None:
        if d is not None and id(d) not in self._cycles:
            self._cycle_record(d, CYCLE_DEF, out)

    # -- public -----------------------------------------------------------------------

    def encode(self, obj: Any) -> bytes:
        """The records for ``obj`` (and any list/cycle it needs first).

        Returns ``b""`` for objects that produce no record: a list (written
        when a result needs it) or a cycle reached through a result.
        """
        out = bytearray()
        if isinstance(obj, ScamperList):
            return b""
        if isinstance(obj, ScamperCycle):
            if obj._kind is None:
                return b""
            if obj._kind == CYCLE_STOP:
                self._ensure_cycle(obj._d, out)
                w = Writer(self)
                w.u32(self._cycles[id(obj._d)][0])
                w.u32(obj._d.stop_time)
                w.u8(0)
                out += record(T_CYCLE_STOP, w.buf)
            else:
                self._cycle_record(obj._d, obj._kind, out)
            return bytes(out)
        entry = ENCODERS.get(type(obj).__name__)
        if entry is None:
            raise WartsError(f"cannot write {type(obj).__name__} as warts")
        rtype, fn = entry
        lst, cyc = getattr(obj, "list", None), getattr(obj, "cycle", None)
        self._ensure_list(lst._d if lst is not None else None, out)
        self._ensure_cycle(cyc._d if cyc is not None else None, out)
        w = Writer(self)
        fn(w, obj._d)
        return bytes(out) + record(rtype, w.buf)
