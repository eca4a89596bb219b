"""``StreamEncoder``: plain data in, warts records out.

The inverse of :class:`~.decoder.StreamDecoder`, and stateful for the same
reason: results refer to list and cycle records by stream-local ids.  The
encoder writes a list (and cycle definition) record the first time a
result refers to one, so every output stands on its own and
``sc_warts2json`` can read it.

Adding a record type is one ``encode_*(writer, data)`` function plus one
entry in :data:`ENCODERS`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .dealias import encode_dealias
from .errors import WartsError
from .host import encode_host
from .http import encode_http
from .listcycle import CycleData, ListData, encode_cycle, encode_cycle_stop, encode_list
from .opaque import encode_opaque
from .owamp import encode_owamp
from .ping import encode_ping
from .records import (
    T_CYCLE_DEF,
    T_CYCLE_STOP,
    T_DEALIAS,
    T_HOST,
    T_HTTP,
    T_LIST,
    T_NEIGHBOURDISC,
    T_OWAMP,
    T_PING,
    T_SNIFF,
    T_STING,
    T_TBIT,
    T_TRACE,
    T_TRACELB,
    T_UDPPROBE,
    frame,
)
from .sniff import encode_sniff
from .tbit import encode_tbit
from .trace import encode_trace
from .tracelb import encode_tracelb
from .udpprobe import encode_udpprobe
from .writer import Writer

__all__ = ["ENCODERS", "StreamEncoder"]

#: result record type -> body encoder
ENCODERS: dict[int, Callable[[Writer, Any], None]] = {
    T_TRACE: encode_trace,
    T_PING: encode_ping,
    T_TRACELB: encode_tracelb,
    T_DEALIAS: encode_dealias,
    T_NEIGHBOURDISC: encode_opaque,
    T_TBIT: encode_tbit,
    T_STING: encode_opaque,
    T_SNIFF: encode_sniff,
    T_HOST: encode_host,
    T_HTTP: encode_http,
    T_UDPPROBE: encode_udpprobe,
    T_OWAMP: encode_owamp,
}


class StreamEncoder:
    """Encodes data for one output stream."""

    def __init__(self) -> None:
        # keyed by id() of the shared ListData / CycleData; the object is kept
        # alongside so the id cannot be reused while the stream is open
        self._lists: dict[int, tuple[int, ListData]] = {}
        self._cycles: dict[int, tuple[int, CycleData]] = {}

    # -- the RefIds protocol used by Writer ---------------------------------------

    def list_id(self, lst: ListData | None) -> int:
        return 0 if lst is None else self._lists[id(lst)][0]

    def cycle_id(self, cyc: CycleData | None) -> int:
        return 0 if cyc is None else self._cycles[id(cyc)][0]

    # -- bookkeeping records ----------------------------------------------------------

    def _ensure_list(self, d: ListData | None, out: bytearray) -> None:
        if d is None or id(d) in self._lists:
            return
        wid = len(self._lists) + 1
        self._lists[id(d)] = (wid, d)
        w = Writer(self)
        encode_list(w, wid, d)
        out += frame(T_LIST, w.buf)

    def _cycle_record(self, d: CycleData, kind: int, out: bytearray) -> None:
        self._ensure_list(d.list, out)
        wid = len(self._cycles) + 1
        self._cycles[id(d)] = (wid, d)
        w = Writer(self)
        encode_cycle(w, wid, self.list_id(d.list), d)
        out += frame(kind, w.buf)

    def _ensure_cycle(self, d: CycleData | None, out: bytearray) -> None:
        if d is not None and id(d) not in self._cycles:
            self._cycle_record(d, T_CYCLE_DEF, out)

    # -- public -----------------------------------------------------------------------

    def cycle(self, kind: int, d: CycleData) -> bytes:
        """The records of a cycle start, definition or stop (``kind`` is the
        record type), after the list (and, for a stop, the definition) they need."""
        out = bytearray()
        if kind == T_CYCLE_STOP:
            self._ensure_cycle(d, out)
            w = Writer(self)
            encode_cycle_stop(w, self.cycle_id(d), d)
            out += frame(T_CYCLE_STOP, w.buf)
        else:
            self._cycle_record(d, kind, out)
        return bytes(out)

    def result(self, rtype: int, data: Any) -> bytes:
        """The records of a result of type ``rtype``, after any list and cycle
        records it refers to that this stream has not had yet."""
        encode = ENCODERS.get(rtype)
        if encode is None:
            raise WartsError(f"cannot write record type {rtype}")
        out = bytearray()
        self._ensure_list(getattr(data, "list_", None), out)
        self._ensure_cycle(getattr(data, "cycle", None), out)
        w = Writer(self)
        encode(w, data)
        return bytes(out) + frame(rtype, w.buf)
